import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { applyTheme, loadTheme } from './theme/theme';
import './styles.css';

// Before the first render, so a dark-theme user never sees a light flash.
applyTheme(loadTheme());

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

import { Router, type Request, type Response } from 'express';

// The explorer is ours and self-contained: no CDN, no third-party bundle. It reads the document
// at /api/v1/openapi.json, so it never drifts from the API it describes. Everything it shows from
// the document or a response goes through textContent, never innerHTML.

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Farm API explorer</title>
<link rel="stylesheet" href="/api/docs/explorer.css">
<script src="/api/docs/explorer.js" defer></script>
</head>
<body>
<header>
  <h1>Farm API explorer</h1>
  <p id="doc-info">Loading <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>…</p>
  <div class="toolbar">
    <label>Bearer token <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="paste an API token (kept in this page only)"></label>
    <label>Filter <input id="filter" type="search" placeholder="operation, path or tag"></label>
  </div>
</header>
<main id="operations"></main>
<noscript>The explorer needs JavaScript; the raw document is at /api/v1/openapi.json.</noscript>
</body>
</html>
`;

const STYLE = `
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 4rem; }
h1 { margin: 0.5rem 0; font-size: 1.6rem; }
h2 { margin: 1.5rem 0 0.5rem; font-size: 1.2rem; text-transform: capitalize; }
.toolbar { display: flex; flex-wrap: wrap; gap: 1rem; margin: 0.75rem 0; }
.toolbar label { display: flex; flex-direction: column; font-size: 0.85rem; gap: 0.25rem; flex: 1 1 20rem; }
input, textarea, select, button { font: inherit; padding: 0.35rem 0.5rem; border: 1px solid #b9c0cc; border-radius: 4px; }
textarea { font-family: ui-monospace, monospace; width: 100%; box-sizing: border-box; min-height: 8rem; }
details { background: #fff; border: 1px solid #d8dde5; border-radius: 6px; margin: 0.4rem 0; }
summary { cursor: pointer; padding: 0.5rem 0.75rem; display: flex; gap: 0.75rem; align-items: baseline; }
.method { font-weight: 700; font-family: ui-monospace, monospace; min-width: 4rem; text-transform: uppercase; }
.method.get { color: #1769aa; } .method.post { color: #1c7c3c; } .method.put { color: #8a5a00; }
.method.patch { color: #8a5a00; } .method.delete { color: #b3261e; }
.path { font-family: ui-monospace, monospace; }
.summary { color: #4b5563; flex: 1; }
.auth { font-size: 0.75rem; border-radius: 999px; padding: 0.05rem 0.5rem; background: #eef1f5; }
.body { padding: 0 0.75rem 0.75rem; }
.field { display: grid; grid-template-columns: 12rem 1fr; gap: 0.5rem; margin: 0.35rem 0; align-items: center; }
.field small { color: #6b7280; }
.result { margin-top: 0.75rem; }
.result pre { background: #111827; color: #e5e7eb; padding: 0.75rem; border-radius: 4px; overflow: auto; max-height: 30rem; }
.status-ok { color: #1c7c3c; font-weight: 700; } .status-err { color: #b3261e; font-weight: 700; }
`;

const SCRIPT = `'use strict';
(function () {
  var state = { doc: null, token: '' };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') node.textContent = attrs[key];
      else if (key === 'className') node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function resolve(node) {
    var seen = 0;
    while (node && node.$ref && seen++ < 20) {
      var parts = node.$ref.replace(/^#\\//, '').split('/');
      node = parts.reduce(function (at, part) { return at && at[part.replace(/~1/g, '/').replace(/~0/g, '~')]; }, state.doc);
    }
    return node || {};
  }

  // A starting body: required fields with placeholder values, so the user edits rather than types.
  function example(schema, depth) {
    schema = resolve(schema);
    if (depth > 6) return null;
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (schema.const !== undefined) return schema.const;
    if (schema.enum) return schema.enum[0];
    var variants = schema.oneOf || schema.anyOf;
    if (variants) return example(variants[0], depth + 1);
    if (schema.allOf) {
      return schema.allOf.reduce(function (acc, part) {
        var value = example(part, depth + 1);
        return value && typeof value === 'object' && !Array.isArray(value) ? Object.assign(acc, value) : acc;
      }, {});
    }
    var type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === 'object' || schema.properties) {
      var out = {};
      (schema.required || []).forEach(function (name) {
        out[name] = example((schema.properties || {})[name] || {}, depth + 1);
      });
      return out;
    }
    if (type === 'array') return [];
    if (type === 'integer' || type === 'number') return schema.minimum !== undefined ? schema.minimum : 0;
    if (type === 'boolean') return false;
    if (type === 'null') return null;
    if (schema.format === 'uuid') return '00000000-0000-0000-0000-000000000000';
    return '';
  }

  function parametersOf(pathItem, operation) {
    var all = (pathItem.parameters || []).concat(operation.parameters || []).map(resolve);
    var byKey = {};
    all.forEach(function (p) { byKey[p.in + ':' + p.name] = p; });
    return Object.keys(byKey).map(function (key) { return byKey[key]; });
  }

  function renderOperation(path, method, pathItem, operation) {
    var params = parametersOf(pathItem, operation).filter(function (p) { return p.in === 'path' || p.in === 'query'; });
    var content = operation.requestBody && resolve(operation.requestBody).content;
    var jsonBody = content && content['application/json'];
    var auth = operation['x-farm-auth'] || 'user';
    var scope = operation['x-farm-scope'];
    var inputs = {};
    var form = el('form', { className: 'body' });
    if (operation.description) form.appendChild(el('p', { text: operation.description }));
    params.forEach(function (p) {
      var schema = resolve(p.schema || {});
      var input = el('input', { name: p.name, placeholder: schema.type || 'string' });
      if (p.required) input.required = true;
      inputs[p.in + ':' + p.name] = input;
      form.appendChild(el('label', { className: 'field' }, [
        el('span', { text: p.name + ' (' + p.in + (p.required ? ', required' : '') + ')' }),
        el('span', {}, [input, p.description ? el('small', { text: ' ' + p.description }) : null]),
      ]));
    });
    var bodyInput = null;
    if (jsonBody) {
      bodyInput = el('textarea', { name: 'body', spellcheck: 'false' });
      bodyInput.value = JSON.stringify(example(jsonBody.schema || {}, 0), null, 2);
      form.appendChild(el('label', {}, [el('div', { text: 'JSON body' }), bodyInput]));
    } else if (content) {
      form.appendChild(el('p', { text: 'This operation takes a ' + Object.keys(content).join(' or ') + ' body; send it with curl or a script.' }));
    }
    var result = el('div', { className: 'result' });
    form.appendChild(el('button', { type: 'submit', text: 'Send ' + method.toUpperCase() + ' request' }));
    form.appendChild(result);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      send(path, method, params, inputs, bodyInput, result);
    });
    var searchText = [operation.operationId, path, method, (operation.tags || []).join(' '), operation.summary || ''].join(' ').toLowerCase();
    var details = el('details', { 'data-search': searchText }, [
      el('summary', {}, [
        el('span', { className: 'method ' + method, text: method }),
        el('span', { className: 'path', text: path }),
        el('span', { className: 'summary', text: operation.summary || operation.operationId || '' }),
        el('span', { className: 'auth', text: auth === 'none' ? 'no credential' : auth + (scope ? ' · ' + scope : '') }),
      ]),
      form,
    ]);
    return details;
  }

  function send(path, method, params, inputs, bodyInput, result) {
    var url = path.replace(/\\{([^}]+)\\}/g, function (_, name) {
      var input = inputs['path:' + name];
      return encodeURIComponent(input ? input.value : '');
    });
    var query = new URLSearchParams();
    params.forEach(function (p) {
      var input = inputs['query:' + p.name];
      if (p.in === 'query' && input && input.value !== '') query.append(p.name, input.value);
    });
    if (query.toString()) url += '?' + query.toString();
    var headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    var init = { method: method.toUpperCase(), headers: headers };
    if (bodyInput) {
      headers['Content-Type'] = 'application/json';
      init.body = bodyInput.value;
    }
    result.textContent = 'Sending…';
    var started = performance.now();
    fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var shown = text;
        try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: show as text */ }
        var ms = Math.round(performance.now() - started);
        result.textContent = '';
        result.appendChild(el('div', {}, [
          el('span', { className: response.ok ? 'status-ok' : 'status-err', text: response.status + ' ' + response.statusText }),
          el('span', { text: ' in ' + ms + ' ms · ' + init.method + ' ' + url }),
        ]));
        result.appendChild(el('pre', { text: shown || '(empty body)' }));
      });
    }).catch(function (error) {
      result.textContent = 'Request failed: ' + error;
    });
  }

  function render() {
    var doc = state.doc;
    var main = $('operations');
    main.textContent = '';
    var groups = {};
    Object.keys(doc.paths || {}).forEach(function (path) {
      var pathItem = doc.paths[path];
      ['get', 'post', 'put', 'patch', 'delete'].forEach(function (method) {
        var operation = pathItem[method];
        if (!operation) return;
        var tag = (operation.tags && operation.tags[0]) || 'other';
        (groups[tag] = groups[tag] || []).push(renderOperation(path, method, pathItem, operation));
      });
    });
    var order = (doc.tags || []).map(function (t) { return t.name; });
    Object.keys(groups).sort(function (a, b) {
      var ia = order.indexOf(a), ib = order.indexOf(b);
      return (ia < 0 ? 999 : ia) - (ib < 0 ? 999 : ib) || a.localeCompare(b);
    }).forEach(function (tag) {
      var section = el('section', { 'data-tag': tag }, [el('h2', { text: tag })]);
      groups[tag].forEach(function (node) { section.appendChild(node); });
      main.appendChild(section);
    });
  }

  function applyFilter() {
    var needle = $('filter').value.trim().toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll('details[data-search]'), function (node) {
      node.hidden = needle !== '' && node.getAttribute('data-search').indexOf(needle) < 0;
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('token').addEventListener('input', function (event) { state.token = event.target.value.trim(); });
    $('filter').addEventListener('input', applyFilter);
    fetch('/api/v1/openapi.json').then(function (response) {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.json();
    }).then(function (doc) {
      state.doc = doc;
      var info = doc.info || {};
      $('doc-info').textContent = (info.title || 'API') + ' ' + (info.version || '') + ' · ' + (info.summary || '');
      render();
    }).catch(function (error) {
      $('doc-info').textContent = 'Could not load /api/v1/openapi.json: ' + error.message;
    });
  });
})();
`;

// The page runs only our own script and only talks to this origin.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The interactive API explorer at `/api/docs` (page, script and style, all served from memory). */
export function createApiDocsRouter(): Router {
  const router = Router();
  const send =
    (type: string, text: string) =>
    (_req: Request, res: Response): void => {
      res.setHeader('Content-Security-Policy', CSP);
      res.setHeader('Cache-Control', 'no-cache');
      res.type(type).send(text);
    };
  router.get('/api/docs', send('html', PAGE));
  router.get('/api/docs/explorer.js', send('application/javascript', SCRIPT));
  router.get('/api/docs/explorer.css', send('css', STYLE));
  return router;
}

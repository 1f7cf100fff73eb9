'use strict';
// Progress goes to stderr; stdout carries only the JSON result.
const started = Date.now();
function log(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}
module.exports = { log };

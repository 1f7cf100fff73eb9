function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` with every string, at any depth in plain objects and arrays, passed through
 * `fn` along with its JSON pointer. Other values are kept as they are.
 */
export function mapStrings(value: unknown, fn: (text: string, pointer: string) => string): unknown {
  const walk = (node: unknown, pointer: string): unknown => {
    if (typeof node === 'string') return fn(node, pointer);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${pointer}/${i}`));
    if (isPlainObject(node)) {
      // fromEntries defines own properties, so a `__proto__` key stays data instead of a prototype.
      return Object.fromEntries(
        Object.entries(node).map(([key, item]) => [
          key,
          walk(item, `${pointer}/${escapePointer(key)}`),
        ]),
      );
    }
    return node;
  };
  return walk(value, '');
}

// The README's code snippets are copies of the examples' marked regions (`// #region NAME` …
// `// #endregion NAME`), and the examples run in the tests: a snippet that drifts from its
// example fails here. Each region must appear in README.md verbatim (dedented).
import { readFileSync } from 'node:fs';
import test from 'ava';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const sources = ['examples/spa/app.ts', 'examples/native/app.ts', 'examples/service/client.ts', 'examples/api/app.ts', 'examples/api/jose.ts'];

function regions(file: string): Map<string, string> {
  const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
  const found = new Map<string, string>();
  for (const match of text.matchAll(/^[ \t]*\/\/ #region ([\w-]+)\n([\s\S]*?)^[ \t]*\/\/ #endregion \1$/gm)) {
    const lines = match[2]!.replace(/\n$/, '').split('\n');
    const indent = Math.min(...lines.filter((line) => line.trim()).map((line) => line.match(/^ */)![0].length));
    found.set(match[1]!, lines.map((line) => line.slice(indent)).join('\n'));
  }
  return found;
}

for (const file of sources) {
  test(`README carries ${file}'s marked regions verbatim`, (t) => {
    const found = regions(file);
    t.true(found.size > 0, `${file} has a marked region`);
    for (const [name, code] of found) t.true(readme.includes(`\`\`\`ts\n${code}\n\`\`\``), `README.md has region ${name} of ${file} as a ts block, unchanged`);
  });
}

// Keyhold needs Node.js 22.12 or later (its engine, Kysely and the test runner use 22's
// APIs). An older Node would start with a warning and fail later in odd places; one line
// and exit code 1 instead. Plain JavaScript: it runs before tsx is registered.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`keyhold: Node.js 22.12 or later is required, this is ${process.version} (https://nodejs.org)\n`);
  process.exit(1);
}

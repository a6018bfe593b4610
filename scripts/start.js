// `npm start`: the built server (dist/main.js) on plain Node. Built first when dist/ is
// missing or older than the sources (a checkout without `npm install`, an edit).
import { build, isStale } from './build.js';

if (isStale()) await build();
await import('../dist/main.js');

// The admin console in Chromium: sign in through Keyhold's own pages, watch for CSP
// violations and page errors, collect the access tokens the console was given, and check a
// screen (axe-core, no sideways scrolling at the viewport width).
// CONSOLE_SCREENSHOTS=<directory> also saves every checked screen at 390 and 1280 px wide,
// for people to look at (outside the repository).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';

const axeSource = createRequire(import.meta.url)('axe-core').source as string;
const SCREENS = process.env.CONSOLE_SCREENSHOTS;
if (SCREENS) mkdirSync(SCREENS, { recursive: true });

export interface ConsolePage {
  page: Page;
  /** Content Security Policy violations and page errors seen. */
  problems: string[];
  /** The access tokens the token endpoint gave the console. */
  tokens: Set<string>;
  close(): Promise<void>;
}

export async function openConsole(browser: Browser, server: { issuer: string }, user: { email: string; password: string }, width = 390): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width, height: 844 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const tokens = new Set<string>();
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('response', async (response) => {
    if (response.request().method() !== 'POST' || !response.url().endsWith('/token') || !response.ok()) return;
    const answer = (await response.json().catch(() => ({}))) as { access_token?: string };
    if (answer.access_token) tokens.add(answer.access_token);
  });
  await page.goto(`${server.issuer}/console`);
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await page.click('form[action$="/login"] button[type="submit"]');
  await page.waitForSelector('header .badge');
  return { page, problems, tokens, close: () => context.close() };
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through DevTools, which the page's CSP does not govern; the page's own scripts are.
  await page.evaluate(axeSource);
  const results = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id} (${violation.nodes.length})`);
}

interface Assertions {
  deepEqual(a: unknown, b: unknown, message?: string): void;
  true(value: boolean, message?: string): void;
}

/** Checks the screen (axe, no sideways scrolling) and saves its screenshots when asked to. */
export async function checkScreen(t: Assertions, page: Page, name: string): Promise<void> {
  await page.waitForFunction(() => !document.body.textContent?.includes('Loading…'));
  // Saved first, so that a screen failing the checks can be looked at.
  if (SCREENS) await saveScreens(page, name);
  t.deepEqual(await seriousViolations(page), [], `axe on ${name}`);
  const width = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: innerWidth }));
  t.true(width.page <= width.viewport, `${name} fits ${width.viewport} px (page is ${width.page} px wide)`);
}

/** The screen as it is now, at 390 and 1280 px wide; the page is left at its own width. */
export async function saveScreens(page: Page, name: string): Promise<void> {
  if (!SCREENS) return;
  const viewport = page.viewportSize() ?? { width: 390, height: 844 };
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: viewport.height });
    await page.screenshot({ path: `${SCREENS}/console-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize(viewport);
}

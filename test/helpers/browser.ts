import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, ensureDebianPackage } from './apt.js';

export { CHROMIUM };

/** Debian's chromium, installed with apt when missing (see apt.ts). */
export function ensureChromium(): void {
  ensureDebianPackage(CHROMIUM, 'chromium');
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

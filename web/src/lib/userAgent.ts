// A session's device as people say it ("Chrome on Windows", "Safari on iPhone") instead of the
// raw User-Agent header the server stores. Plain TS; order matters (Edge and Opera say Chrome,
// Chrome says Safari, Android says Linux).

const BROWSERS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/\bFirefox\/(\d+)|\bFxiOS\/(\d+)/, 'Firefox'],
  [/\b(?:Headless)?Chrom(?:e|ium)\/(\d+)|\bCriOS\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

const SYSTEMS: [RegExp, string][] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/** "Firefox 128 on Linux", "Safari on iPhone", or a short form of what was sent. */
export function describeUserAgent(ua: string | null | undefined): string {
  const s = (ua ?? '').trim();
  if (!s) return 'Unknown device';
  let browser: string | undefined;
  for (const [re, name] of BROWSERS) {
    const m = re.exec(s);
    if (m) {
      const v = m.slice(1).find(Boolean);
      browser = v ? `${name} ${v}` : name;
      break;
    }
  }
  const system = SYSTEMS.find(([re]) => re.test(s))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `A browser on ${system}`;
  // Not a browser (a script, an app): its product token, e.g. "curl/8.5.0" → "curl 8.5.0".
  const token = /^([\w.-]+)\/([\w.]+)/.exec(s);
  return token ? `${token[1]} ${token[2]}` : s.slice(0, 40);
}

const BROWSERS: [RegExp, string][] = [
  [/Edg(e|A|iOS)?\//, "Edge"],
  [/OPR\//, "Opera"],
  [/Firefox\/|FxiOS\//, "Firefox"],
  [/HeadlessChrome\//, "Headless Chrome"],
  [/Chrome\/|CriOS\//, "Chrome"],
  [/Version\/[\d.]+.*Safari\//, "Safari"],
];
const SYSTEMS: [RegExp, string][] = [
  [/Windows/, "Windows"],
  [/Android/, "Android"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

/**
 * A session's browser in a few words ("Chrome on Linux") from its User-Agent,
 * for people to recognise their own devices; the full string stays beside it.
 * Anything else is named by its first product token ("curl", "python-requests").
 */
export function browserSummary(userAgent: string | null): string {
  if (!userAgent?.trim()) return "Unknown browser";
  const browser =
    BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? (userAgent.trim().split(/[/\s]/)[0] || "Unknown");
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  return system ? `${browser} on ${system}` : browser;
}

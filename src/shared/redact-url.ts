// A URL as it may be shown in an open answer (a call record) or a log: no user information, every
// query value replaced, no fragment. The path stays: it is how a receiver routes the callback.
export const REDACTED = 'redacted';

export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '[invalid url]';
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  if (url.search !== '') {
    const names = [...url.searchParams.keys()];
    url.search = names.map((name) => `${encodeURIComponent(name)}=${REDACTED}`).join('&');
  }
  return url.href;
}

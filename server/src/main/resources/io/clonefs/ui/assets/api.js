// The /v1 API from the browser: the session cookie goes along by itself; state changes carry the
// session's CSRF token. Errors are thrown as ApiError with the API's one-line message.
let csrf = null;
let onDown = () => {};
let onUp = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Called when the daemon stops answering, and when it answers again. */
export function watch(down, up) {
  onDown = down;
  onUp = up;
}

/** Fetches the session's CSRF token; sends the browser to the sign-in page without a session. */
export async function session() {
  const r = await fetch('/ui/session', {cache: 'no-store'});
  if (r.status === 401) {
    location.replace('/ui/login');
    throw new ApiError(401, 'unauthorized', 'not signed in');
  }
  csrf = (await r.json()).csrf;
}

export async function call(method, path, body) {
  const headers = {};
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = csrf;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let r;
  try {
    r = await fetch(path, {method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (x) {
    onDown();
    throw new ApiError(0, 'unreachable', 'The daemon is not answering.');
  }
  onUp();
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (x) {
    // not JSON: reported below
  }
  if (r.status === 401 && !(json && json.message && json.message.startsWith('refused:'))) {
    // the session ended (signed out, idle 12 h, or the daemon restarted); a CSRF refusal is shown instead
    location.replace('/ui/login');
  }
  if (!r.ok) {
    throw new ApiError(r.status, json && json.code, (json && json.message) || ('HTTP ' + r.status));
  }
  return json;
}

export async function logout() {
  try {
    await fetch('/ui/logout', {method: 'POST', headers: {'X-CSRF-Token': csrf}});
  } finally {
    location.replace('/ui/login');
  }
}

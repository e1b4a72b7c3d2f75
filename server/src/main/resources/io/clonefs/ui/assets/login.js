// The sign-in page: posts the token (never in a URL), then opens the console.
const form = document.getElementById('login-form');
const err = document.getElementById('login-error');
const refused = new URLSearchParams(location.search).get('refused');
if (refused) {
  show(refused === 'busy' ? 'Too many failed sign-ins: wait a minute and try again.'
    : 'That sign-in link was already used or has expired: run clonefs ui for a new one.');
  history.replaceState(null, '', '/ui/login');
}

function show(message) {
  err.textContent = message;
  err.hidden = false;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  err.hidden = true;
  const token = document.getElementById('token');
  let r;
  try {
    r = await fetch('/ui/login', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({token: token.value}),
    });
  } catch (x) {
    show('The daemon is not answering.');
    return;
  }
  token.value = '';
  if (r.ok) {
    location.replace('/ui/');
    return;
  }
  let message = 'Sign-in failed (HTTP ' + r.status + ').';
  try {
    message = (await r.json()).message || message;
  } catch (x) {
    // keep the status line
  }
  show(message);
  token.focus();
});

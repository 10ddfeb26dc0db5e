// A custom login form on the official Wix JavaScript SDK, running in the browser on its own
// origin against a headless-redirects server (SPEC §9-§11).
//
// Open it as index.html?server=<service URL>&clientId=<OAuth client id>. The two values are kept
// in localStorage, so the page still works when a hosted page sends the browser back to it.

import { createClient, EMPTY_TOKENS, OAuthStrategy } from '@wix/sdk';
import { members } from '@wix/members';
import { redirects } from '@wix/redirects';

const CONFIG_KEY = 'custom-login:config';
const OAUTH_KEY = 'custom-login:oauth-data';
const VERIFY_KEY = 'custom-login:verification';

const config = readConfig(new URLSearchParams(location.search));

function readConfig(params) {
  const fromQuery = { server: params.get('server'), clientId: params.get('clientId') };
  if (fromQuery.server && fromQuery.clientId) {
    fromQuery.server = fromQuery.server.replace(/\/+$/, '');
    localStorage.setItem(CONFIG_KEY, JSON.stringify(fromQuery));
    return fromQuery;
  }
  return JSON.parse(localStorage.getItem(CONFIG_KEY) ?? 'null');
}

// The SDK's API hosts are fixed in its code: www for the token and identity calls, edge for module
// calls made through createClient (redirects, members). Both go to our server instead.
const SDK_ORIGINS = ['https://www.wixapis.com', 'https://edge.wixapis.com'];
const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  const origin = config && SDK_ORIGINS.find((o) => url === o || url.startsWith(`${o}/`));
  if (!origin) return realFetch(input, init);
  const target = config.server + url.slice(origin.length);
  return realFetch(input instanceof Request ? new Request(target, input) : target, init);
};

// Tokens live in localStorage (one entry per client id) so a reload, or a return from a hosted
// page, keeps the visitor or member; tokenStorage makes the SDK read and write them there.
const tokensKey = `custom-login:tokens:${config?.clientId}`;
const tokenStorage = {
  getTokens: () => JSON.parse(localStorage.getItem(tokensKey) ?? 'null') ?? EMPTY_TOKENS,
  setTokens: (tokens) => localStorage.setItem(tokensKey, JSON.stringify(tokens)),
};
const auth = OAuthStrategy({ clientId: config?.clientId ?? '', tokenStorage });
const client = createClient({ modules: { members, redirects }, auth });

const $ = (testId) => document.querySelector(`[data-testid="${testId}"]`);
const show = (testId, text) => { $(testId).textContent = text ?? ''; };
const here = () => `${location.origin}${location.pathname}`;
const field = (testId) => $(testId).value.trim();

// The SDK's error messages are the server's error as JSON: show its human part.
function readable(message) {
  try {
    return JSON.parse(message).message ?? message;
  } catch {
    return message ?? '';
  }
}

function showError(e) {
  const code = e?.details?.applicationError?.code;
  show('error-code', code === undefined ? '' : String(code));
  // A fetch the browser refused (CORS, server down) is a TypeError: say so plainly.
  show('error', e instanceof TypeError ? `TypeError: ${e.message}` : readable(e?.message ?? String(e)));
}

// Every button runs through here: one place that marks the page busy and shows what went wrong.
async function action(run) {
  document.body.dataset.busy = 'true';
  for (const id of ['login-state', 'error-code', 'error', 'notice']) show(id, '');
  try {
    await run();
  } catch (e) {
    showError(e);
  } finally {
    delete document.body.dataset.busy;
  }
}

async function render() {
  show('role', auth.getTokens().refreshToken?.role || 'none');
  show('logged-in', String(auth.loggedIn()));
  show('member-email', '');
  if (!auth.loggedIn()) return;
  try {
    const { member } = await client.members.getCurrentMember({ fieldsets: ['FULL'] });
    show('member-email', member.loginEmail);
  } catch (e) {
    const status = e?.response?.status ?? e?.status;
    if (status !== 401 && status !== 403) throw e;
    // The member's tokens were revoked (a logout elsewhere, a password reset, a blocked account).
    auth.setTokens(await auth.generateVisitorTokens());
    show('role', auth.getTokens().refreshToken.role);
    show('logged-in', String(auth.loggedIn()));
    show('notice', 'Your member session has ended. Please log in again.');
  }
}

// register, login and processVerification all answer a LoginState.
async function handleLoginResponse(result) {
  show('login-state', result.loginState);
  if (result.loginState === 'SUCCESS') {
    sessionStorage.removeItem(VERIFY_KEY);
    $('verification-form').hidden = true;
    auth.setTokens(await auth.getMemberTokensForDirectLogin(result.data.sessionToken));
    await render();
  } else if (result.loginState === 'EMAIL_VERIFICATION_REQUIRED') {
    // Kept so that the code can still be entered after a reload.
    sessionStorage.setItem(VERIFY_KEY, JSON.stringify(result));
    $('verification-form').hidden = false;
    show('notice', 'We emailed you a 6-digit code. Enter it below.');
  } else if (result.loginState === 'OWNER_APPROVAL_REQUIRED') {
    show('notice', 'Thanks for signing up. The site owner will approve your account.');
  } else {
    show('error-code', result.errorCode);
    show('error', readable(result.error));
  }
}

$('register').addEventListener('click', () => action(async () => {
  const nickname = field('nickname');
  await handleLoginResponse(await auth.register({
    email: field('email'),
    password: $('password').value,
    ...(nickname && { profile: { nickname } }),
  }));
}));

$('login').addEventListener('click', () => action(async () => {
  await handleLoginResponse(await auth.login({ email: field('email'), password: $('password').value }));
}));

$('verify').addEventListener('click', () => action(async () => {
  const pending = JSON.parse(sessionStorage.getItem(VERIFY_KEY) ?? 'null') ?? undefined;
  await handleLoginResponse(await auth.processVerification({ verificationCode: field('verification-code') }, pending));
}));

$('forgot').addEventListener('click', () => action(async () => {
  const email = field('email');
  await auth.sendPasswordResetEmail(email, `${here()}?page=password-changed`);
  show('notice', `If ${email} has an account, a link to reset its password is on its way.`);
}));

$('hosted-login').addEventListener('click', () => action(async () => {
  // The redirect URI must be one of the app's allowed redirect URIs, exactly.
  const oauthData = auth.generateOAuthData(here(), location.href);
  sessionStorage.setItem(OAUTH_KEY, JSON.stringify(oauthData));
  const { authUrl } = await auth.getAuthUrl(oauthData);
  location.assign(authUrl);
}));

$('logout').addEventListener('click', () => action(async () => {
  // The SDK forgets the tokens; the server's logout page ends the session and comes back here.
  const { logoutUrl } = await auth.logout(here());
  location.assign(logoutUrl);
}));

$('buy').addEventListener('click', () => action(async () => {
  const { redirectSession } = await client.redirects.createRedirectSession({
    ecomCheckout: { checkoutId: field('checkout-id') },
    callbacks: { postFlowUrl: here(), thankYouPageUrl: `${here()}?page=thank-you`, cartPageUrl: here() },
  });
  location.assign(redirectSession.fullUrl);
}));

// Back from getAuthUrl's hosted login: the code and state arrive in the fragment.
async function finishHostedLogin() {
  const saved = sessionStorage.getItem(OAUTH_KEY);
  if (!saved || !/[#&](code|error)=/.test(location.hash)) return;
  sessionStorage.removeItem(OAUTH_KEY);
  const { code, state, error, errorDescription } = auth.parseFromUrl(location.href, 'fragment');
  history.replaceState(null, '', location.pathname + location.search);
  if (error) {
    show('error-code', error);
    show('error', errorDescription ?? error);
    return;
  }
  auth.setTokens(await auth.getMemberTokens(code, state, JSON.parse(saved)));
}

function showReturn(params) {
  if (params.get('orderId')) {
    show('order-id', params.get('orderId'));
    show('notice', 'Thank you for your order.');
  } else if (params.get('page') === 'password-changed') {
    show('notice', 'Your password was changed. Log in with the new one.');
  }
}

function uuid4() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function start() {
  if (!config) {
    throw new Error('Open this page as index.html?server=<service URL>&clientId=<OAuth client id>');
  }
  show('server', config.server);
  $('checkout-id').value = uuid4();
  $('verification-form').hidden = !sessionStorage.getItem(VERIFY_KEY);
  await finishHostedLogin();
  // Visitor tokens on the first visit; stored tokens (visitor or member) afterwards, renewed
  // through the refresh token once the access token has expired.
  auth.setTokens(await auth.generateVisitorTokens(auth.getTokens()));
  showReturn(new URLSearchParams(location.search));
  await render();
}

start().then(
  () => { document.body.dataset.started = 'ok'; },
  (e) => { showError(e); document.body.dataset.started = 'failed'; },
);

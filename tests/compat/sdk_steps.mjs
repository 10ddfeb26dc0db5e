// One step of an OAuth flow with the official SDK, for browser tests that interleave it with
// a real browser. Usage: node sdk_steps.mjs <step> <json-args>; prints one JSON object.
// The SDK's API host is fixed in its code, so the global fetch is wrapped (SPEC §9).
import { createClient, OAuthStrategy } from '@wix/sdk';
import { redirects } from '@wix/redirects';

const BASE = process.env.HR_BASE;
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input.url);
  return realFetch(BASE + url.pathname + url.search, init);
};

const [step, raw] = process.argv.slice(2);
const args = JSON.parse(raw ?? '{}');
const auth = OAuthStrategy({ clientId: process.env.HR_CLIENT_ID });
const client = createClient({ modules: { redirects }, auth });
const out = {};

if (step === 'auth-url') {
  const oauthData = auth.generateOAuthData(args.redirectUri, args.originalUri);
  const { authUrl } = await auth.getAuthUrl(oauthData, { responseMode: args.responseMode, prompt: args.prompt ?? 'login' });
  Object.assign(out, { authUrl, oauthData });
} else if (step === 'silent-url') {
  // As getMemberTokensForDirectLogin builds it: web_message, prompt none, a sessionToken, no redirectUri.
  const oauthData = auth.generateOAuthData();
  const { authUrl } = await auth.getAuthUrl(oauthData, { responseMode: 'web_message', prompt: 'none', sessionToken: args.sessionToken });
  Object.assign(out, { authUrl, oauthData });
} else if (step === 'member') {
  const { code, state } = args.code ? args : auth.parseFromUrl(args.url, args.responseMode);
  const tokens = await auth.getMemberTokens(code, state, args.oauthData);
  auth.setTokens(tokens);
  out.loggedIn = auth.loggedIn();
  out.tokens = tokens;
  if (args.checkoutId) {
    const { redirectSession } = await client.redirects.createRedirectSession({
      ecomCheckout: { checkoutId: args.checkoutId },
      callbacks: { postFlowUrl: args.postFlowUrl },
    });
    out.session = redirectSession;
  }
  if (args.logoutTo) {
    out.logoutUrl = (await auth.logout(args.logoutTo)).logoutUrl;
  }
} else if (step === 'create') {
  // createRedirectSession with visitor tokens, as a client site's server would call it.
  const { redirectSession } = await client.redirects.createRedirectSession(args.body);
  out.session = redirectSession;
} else {
  throw new Error(`unknown step ${step}`);
}
process.stdout.write(JSON.stringify(out));

// Drives the official @wix/sdk + @wix/redirects against a headless-redirects server.
// The SDK's API host is fixed in its code, so the global fetch is wrapped to rewrite the
// origin (SPEC §9). Prints one JSON object with what each scenario observed.
import { createClient, OAuthStrategy, ApiKeyStrategy } from '@wix/sdk';
import { redirects } from '@wix/redirects';

const BASE = process.env.HR_BASE;
const CLIENT_ID = process.env.HR_CLIENT_ID;
const SITE_ID = process.env.HR_SITE_ID;
const API_KEY = process.env.HR_API_KEY;
const CHECKOUT_ID = '0fc930e0-5bc6-4dfe-b828-4d56c40a0c07';

const calls = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const original = typeof input === 'string' ? input : input.url;
  const url = new URL(original);
  if (!url.hostname.endsWith('wixapis.com')) throw new Error(`unexpected host ${url.hostname}`);
  const target = BASE + url.pathname + url.search;
  calls.push({ path: url.pathname, body: init.body ? JSON.parse(init.body) : null });
  return realFetch(target, init);
};

const out = {};
const errorOf = (e) => ({ message: e.message, details: e.details ?? null });

// 1. Visitor tokens from OAuthStrategy, then createRedirectSession for ecomCheckout.
const auth = OAuthStrategy({ clientId: CLIENT_ID });
const client = createClient({ modules: { redirects }, auth });
const ecom = await client.redirects.createRedirectSession({
  ecomCheckout: { checkoutId: CHECKOUT_ID },
  callbacks: {
    postFlowUrl: 'http://127.0.0.1:3000/after?from=sdk',
    thankYouPageUrl: 'http://127.0.0.1:3000/thanks',
    cartPageUrl: 'http://127.0.0.1:3000/cart',
  },
});
out.ecom = ecom.redirectSession;
out.visitorTokens = auth.getTokens();

// 2. The login intent.
const login = await client.redirects.createRedirectSession({
  login: {},
  callbacks: { postFlowUrl: 'http://127.0.0.1:3000/welcome' },
});
out.login = login.redirectSession;

// 3. getAuthUrl(generateOAuthData(...)).
const oauthData = auth.generateOAuthData('http://127.0.0.1:3000/callback', 'http://127.0.0.1:3000/');
const { authUrl } = await auth.getAuthUrl(oauthData);
out.authUrl = authUrl;
out.oauthData = oauthData;

// 4. ApiKeyStrategy.
const keyClient = createClient({ modules: { redirects }, auth: ApiKeyStrategy({ apiKey: API_KEY, siteId: SITE_ID }) });
const viaKey = await keyClient.redirects.createRedirectSession({
  ecomCheckout: { checkoutId: CHECKOUT_ID },
  callbacks: { postFlowUrl: 'http://localhost:3000/after' },
});
out.apiKey = viaKey.redirectSession;

// 5. A missing ecomCheckout.checkoutId.
try {
  await client.redirects.createRedirectSession({ ecomCheckout: {} });
  out.missingField = { thrown: false };
} catch (e) {
  out.missingField = { thrown: true, ...errorOf(e) };
}

// 6. An expired access token: the SDK renews it through refresh_token and carries on.
const tokens = auth.getTokens();
auth.setTokens({ accessToken: { value: tokens.accessToken.value, expiresAt: 0 }, refreshToken: tokens.refreshToken });
const before = calls.length;
const renewed = await client.redirects.createRedirectSession({ login: {} });
out.renewal = {
  session: renewed.redirectSession,
  grants: calls.slice(before).filter((c) => c.path === '/oauth2/token').map((c) => c.body),
  newAccessToken: auth.getTokens().accessToken.value !== tokens.accessToken.value,
};

out.calls = calls.map((c) => c.path);
process.stdout.write(JSON.stringify(out));

// Resource-owner password credentials grant (RFC 6749 §4.3) as an oidc-provider custom grant type.
//
// oidc-provider does not ship this grant (OAuth 2.1 drops it); planet-profiles still supports the
// `oidc_resource_owner*` client types, so the dev server adds it: any username with the password
// TEST_PASSWORD is accepted. Client authentication has already happened when the handler runs.

import { errors } from 'oidc-provider';

export const TEST_PASSWORD = 'password';
export const PARAMETERS = ['username', 'password', 'scope', 'resource'];

/**
 * Build the `grant_type=password` handler.
 *
 * @param {object} options
 * @param {(ctx: object, id: string) => Promise<object>} options.findAccount the provider's account lookup
 * @param {(ctx: object, client: object) => Promise<string|undefined>} options.defaultResource
 * @param {(ctx: object, resource: string, client: object) => Promise<object>} options.getResourceServerInfo
 * @param {Set<string>} options.oidcScopes the provider's OIDC scopes (openid, offline_access, ...)
 */
export function passwordGrantHandler({ findAccount, defaultResource, getResourceServerInfo, oidcScopes }) {
  return async function passwordGrant(ctx) {
    const { provider, params, client } = ctx.oidc;

    if (!params.username) throw new errors.InvalidRequest("missing required parameter 'username'");
    if (!params.password) throw new errors.InvalidRequest("missing required parameter 'password'");
    // RFC 6749 §5.2: wrong resource-owner credentials are an invalid_grant.
    if (params.password !== TEST_PASSWORD) throw new errors.InvalidGrant('invalid username or password');

    const account = await findAccount(ctx, params.username);
    ctx.oidc.entity('Account', account);

    const requested = new Set(params.scope?.split(' ').filter(Boolean));
    if (!client.grantTypeAllowed('refresh_token')) requested.delete('offline_access');
    const oidcScope = [...requested].filter((scope) => oidcScopes.has(scope)).join(' ');

    // A grant records what the user "consented" to; refresh tokens are validated against it later.
    const grant = new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
    if (oidcScope) grant.addOIDCScope(oidcScope);

    const resource = params.resource ?? await defaultResource(ctx, client);
    let resourceServer;
    let resourceScope = '';
    if (resource) {
      const info = await getResourceServerInfo(ctx, resource, client);
      resourceServer = new provider.ResourceServer(resource, info);
      resourceScope = [...requested].filter((scope) => resourceServer.scopes.has(scope)).join(' ');
      grant.addResourceScope(resource, resourceScope);
    }
    const grantId = await grant.save();
    ctx.oidc.entity('Grant', grant);

    const accessToken = new provider.AccessToken({
      accountId: account.accountId, client, grantId, gty: 'password',
    });
    if (resourceServer) {
      accessToken.resourceServer = resourceServer;
      accessToken.scope = resourceScope || undefined;
    } else {
      accessToken.scope = oidcScope || undefined;
    }
    ctx.oidc.entity('AccessToken', accessToken);
    const accessTokenValue = await accessToken.save();

    // Same policy as the other grants: a refresh token only with offline_access.
    const grantedScope = [...new Set([...oidcScope.split(' '), ...resourceScope.split(' ')])].filter(Boolean).join(' ');
    let refreshTokenValue;
    if (requested.has('offline_access')) {
      const refreshToken = new provider.RefreshToken({
        accountId: account.accountId,
        client,
        grantId,
        gty: 'password',
        resource,
        rotations: 0,
        scope: grantedScope,
      });
      ctx.oidc.entity('RefreshToken', refreshToken);
      refreshTokenValue = await refreshToken.save();
    }

    let idTokenValue;
    if (requested.has('openid')) {
      const claims = await account.claims('id_token', oidcScope, {}, []);
      const idToken = new provider.IdToken({ ...claims }, { ctx });
      idToken.scope = oidcScope;
      idTokenValue = await idToken.issue({ use: 'idtoken' });
    }

    ctx.body = Object.fromEntries(Object.entries({
      access_token: accessTokenValue,
      expires_in: accessToken.expiration,
      token_type: accessToken.tokenType,
      scope: accessToken.scope,
      refresh_token: refreshTokenValue,
      id_token: idTokenValue,
    }).filter(([, value]) => value !== undefined));
  };
}

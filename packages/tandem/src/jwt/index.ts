export type { JwtAuthorizerOptions, JwtSecret } from './authorizer';
export { jwtAuthorizer } from './authorizer';
export { jwtPublishAuthorizer } from './publish-authorizer';

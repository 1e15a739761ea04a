/** Tab sharing, loaded on demand by the client (see member.ts). */
export { createTabShare } from './member';

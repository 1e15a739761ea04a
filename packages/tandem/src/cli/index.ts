export { main } from './main';
export type { Serving } from './serve';
export { serve } from './serve';

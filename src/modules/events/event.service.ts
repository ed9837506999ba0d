// The events module's reads for other modules (they never import its repository: eslint.config.js). The
// webhook endpoint's test ping reads its event back as stored.
export { findEvent } from './event.repository.ts';

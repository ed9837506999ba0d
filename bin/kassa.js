#!/usr/bin/env node
// The `kassa` command. The gateway is written in TypeScript and run through tsx's loader, so there is no
// build step between `npm install` and `npm start`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');

#!/usr/bin/env node
// Installed entry point: runs the compiled CLI (npm run build). In a checkout, `npm run jobherald -- …`
// runs src/main.ts directly on Node 24's type stripping.
import('../dist/main.js');

// Tessera exactly as `tessera serve` runs it (dist/cli/serve.js), under a bench-specific command
// line, so nothing outside the bench that matches processes by `dist/cli/main.js` touches it.
import { serve } from '../../dist/cli/serve.js';

await serve();

// `farm-worker` from the sources, for end-to-end tests (see ts-register.js).
import { main } from '../../src/main';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

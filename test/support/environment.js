// jest's node environment, plus: when a test file ends, close the servers it started and never closed.
// A setup hook that timed out on a loaded machine leaves its server starting after the file gave up on
// it (its afterAll then has nothing to close); its sockets, pools and timers used to keep jest from
// exiting. Registered by trackServer() in test/support/server.ts.
const { TestEnvironment } = require('jest-environment-node');

const STILL_STARTING_MS = 120_000;

class NhisTestEnvironment extends TestEnvironment {
  async teardown() {
    const leftovers = this.global.__nhisTestServers;
    // A server the test closed through its running server (running.close()) is not a leftover.
    for (const starting of leftovers ?? []) {
      const settled = await Promise.race([starting.then((s) => s, () => undefined), new Promise((resolve) => setImmediate(() => resolve('pending')))]);
      if (settled === undefined || (settled !== 'pending' && typeof settled.isClosed === 'function' && settled.isClosed())) leftovers.delete(starting);
    }
    if (leftovers && leftovers.size > 0) {
      process.stderr.write(`test environment: closing ${leftovers.size} server(s) the test file left open\n`);
      await Promise.all(
        [...leftovers].map(async (starting) => {
          let timer;
          try {
            const server = await Promise.race([
              starting,
              new Promise((_resolve, reject) => {
                timer = setTimeout(() => reject(new Error('a server was still starting')), STILL_STARTING_MS);
              }),
            ]);
            await server.close();
          } catch (err) {
            process.stderr.write(`test environment: ${err.message}\n`);
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      leftovers.clear();
    }
    await super.teardown();
  }
}

module.exports = NhisTestEnvironment;

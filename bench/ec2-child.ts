/**
 * The recorded EC2 server (test/helpers/ec2-server/) in a child process, so the benches do not
 * count its memory or CPU as skygraph's. Run this file with `--serve-ec2 <instances>` to be the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startEc2Server } from '../test/helpers/ec2-server/index.ts';

export { EC2_TEST_KEY_ID, EC2_TEST_SECRET } from '../test/helpers/ec2-server/index.ts';

/** A running child: its base URL, and stop() to end it. */
export interface Ec2Child {
  url: string;
  stop(): Promise<void>;
}

/** Starts the EC2 server with `instances` generated instances, served in pages of 1,000. */
export async function startEc2Child(instances: number): Promise<Ec2Child> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve-ec2', String(instances)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`EC2 server exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('EC2_URL=')) resolve(line.slice('EC2_URL='.length));
    });
  });
  return {
    url,
    async stop() {
      child.stdin!.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const at = process.argv.indexOf('--serve-ec2');
if (at >= 0) {
  const server = await startEc2Server({ generated: Number(process.argv[at + 1]), seed: false, pageSize: 1000 });
  console.log(`EC2_URL=${server.url}`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

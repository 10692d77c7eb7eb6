/** A worker thread of a sweep: runs the points it is sent and posts each result line back. */
import { parentPort } from 'node:worker_threads';
import { PointJob, runPoint } from './sweep-point.js';

interface Message {
  id: number;
  job: PointJob;
  hash: string;
}

parentPort?.on('message', (m: Message) => {
  try {
    parentPort?.postMessage({ id: m.id, line: runPoint(m.job, m.hash) });
  } catch (e) {
    parentPort?.postMessage({ id: m.id, error: e instanceof Error ? `${e.name === 'InputError' ? '' : e.name + ': '}${e.message}` : String(e) });
  }
});

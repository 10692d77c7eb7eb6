/** What `switchlab simulate` prints. */
import { SimResult } from '../sim/simulate.js';
import { renderTable } from './table.js';

export function simulateJson(r: SimResult): Record<string, unknown> {
  return {
    scenario: r.scenario,
    cpu: r.cpu,
    policy: r.policy,
    seed: r.seed,
    simulatedNs: r.simulatedNs,
    totals: r.totals,
    tasks: r.tasks,
  };
}

export function simulateText(r: SimResult): string {
  const t = r.totals;
  const head =
    `scenario ${r.scenario} on ${r.cpu}, FPU policy ${r.policy.fpu}, AMX buffers ${r.policy.xbuf}, PKRU ${r.policy.pkru}, PASID ${r.policy.pasid}, seed ${r.seed}: ${(r.simulatedNs / 1e6).toFixed(3)} ms simulated\n` +
    renderTable(
      ['total', 'count'],
      [
        ['context switches', t.contextSwitches],
        ['XSAVE* (saves)', t.saves],
        ['XRSTOR* (restores)', t.restores],
        ['restores skipped (registers still valid)', t.restoresSkipped],
        ['#NM traps', t.nmTraps],
        ['bytes saved', t.bytesSaved],
        ['bytes restored', t.bytesRestored],
        ['signals delivered', t.signals],
        ['kernel FPU sections', t.kernelFpuSections],
        ['forks / execs / exits', `${t.forks} / ${t.execs} / ${t.exits}`],
        ['ptrace regset accesses', t.ptraceAccesses],
        ['XSAVE buffer memory: peak / allocated (bytes)', `${t.xstateBytesPeak} / ${t.xstateBytesAllocated}`],
        ['buffer allocations / frees', `${t.allocations} / ${t.frees}`],
        ['bytes copied by the buffer design', t.bytesCopied],
        ['IPIs / INVLPGs / page-table updates', `${t.ipis} / ${t.invlpgs} / ${t.pageTableUpdates}`],
        ['saves where the modified optimization skipped state', t.modifiedOptHits],
        ['MSR writes / #GP traps / PKRU writes', `${t.msrWrites} / ${t.gpTraps} / ${t.pkruWrites}`],
        ['register checks (user state intact)', t.integrityChecks],
        ['violations', t.violations.length],
      ],
    );
  const tasks = renderTable(
    ['pid', 'comm', 'kind', 'switches', 'saves', 'restores', 'signals', 'user ms'],
    r.tasks.map((x) => [x.pid, x.comm, x.kind, x.contextSwitches, x.saves, x.restores, x.signals, Number((x.runtimeNs / 1e6).toFixed(3))]),
  );
  const v = t.violations.length ? '\nviolations:\n' + t.violations.slice(0, 10).map((x) => `  ${x.rule}: ${x.detail} (cpu ${x.cpu})`).join('\n') + '\n' : '';
  return head + '\n' + tasks + v;
}

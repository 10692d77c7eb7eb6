import { Command } from 'commander';
import { renderTable } from '../../report/table.js';
import { POLICY_NAMES, STATE_KINDS } from '../../policies/state-kinds.js';
import type { LazyTrap, PolicyFamily, PolicyRef, StateKind, StateLocation } from '../../policies/state-kinds.js';
import { toJson } from '../json.js';

/** Cut text to `max` characters, marking the cut (the JSON always has the full text). */
function shorten(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

function location(l: StateLocation): string {
  return l.kind === 'xsave' ? `xstate ${l.component}${l.supervisor ? ' (XSS)' : ''}` : l.name;
}

const WHERE_ORDER: Readonly<Record<StateLocation['kind'], number>> = { xsave: 0, msr: 1, register: 2, memory: 3 };

/** XSAVE components, MSRs, then registers; memory only when it is the sole place. */
function where(s: StateKind): string {
  const hw = s.where.filter((l) => l.kind !== 'memory');
  const shown = [...(hw.length > 0 ? hw : s.where)].sort((a, b) => WHERE_ORDER[a.kind] - WHERE_ORDER[b.kind]);
  return shorten(shown.map(location).join(', '), 40);
}

const TRAP: Readonly<Record<LazyTrap, string>> = {
  none: '-',
  'nm-cr0-ts': '#NM CR0.TS',
  'nm-xfd': '#NM XFD',
  'gp-fixup': '#GP fixup',
};

const FAMILIES: readonly PolicyFamily[] = ['fpu', 'xbuf', 'pkru', 'pasid'];

/** "fpu:*" when a row names every policy of a family (spelled out in the legend), else the names. */
function policies(refs: readonly PolicyRef[]): string {
  const parts: string[] = [];
  for (const family of FAMILIES) {
    const names = refs.filter((r) => r.family === family).map((r) => r.name as string);
    if (names.length === 0) continue;
    parts.push(names.length === POLICY_NAMES[family].length ? `${family}:*` : `${family}:${names.join(',')}`);
  }
  return parts.length > 0 ? parts.join(' ') : '-';
}

function linux(s: StateKind): string {
  if (s.linux.status === 'not-merged') return 'not merged';
  const range = `${s.linux.since ?? '?'}${s.linux.until ? `-${s.linux.until}` : '+'}`;
  return s.linux.status === 'kvm-only' ? `${range} KVM` : range;
}

export function renderStateKinds(kinds: readonly StateKind[]): string {
  const table = renderTable(
    ['key', 'scope', 'where', 'save/load', 'lazy via', 'policies', 'Linux'],
    kinds.map((s) => [
      s.key,
      s.scope + (s.affectsKernel ? ' +kernel' : ''),
      where(s),
      shorten(s.saveLoad.mechanisms.join(' + '), 34),
      `${TRAP[s.lazy.trap]} (${s.lazy.timing})`,
      policies(s.policies),
      linux(s),
    ]),
  );
  const legend = FAMILIES.map((f) => `${f}:* = ${POLICY_NAMES[f].join(', ')}`).join('; ');
  return (
    table +
    `${kinds.length} kinds. +kernel: the value changes what the kernel itself does. ${legend}.\n` +
    'Cells are shortened (…); --json has every field in full: save/load and lazy details, cost class and figures, Linux versions, sources.\n'
  );
}

export function stateKindsCommand(): Command {
  return new Command('state-kinds')
    .description(
      'the catalogue of x86 CPU state kinds a kernel manages across context switches (seed 003): scope, where it lives, how Linux saves and loads it, lazy traps, cost, Linux versions, the switchlab policies that model it',
    )
    .option('--json', 'machine-readable output (the whole table, nothing shortened)')
    .action((o: { json?: boolean }) => {
      process.stdout.write(o.json ? toJson(STATE_KINDS) : renderStateKinds(STATE_KINDS));
    });
}

import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { formatMiB, type Table } from './report.ts';

/** The machine a run measured, printed first and stored with every result: numbers mean little without it. */
export interface Machine {
  cpuModel: string;
  cores: number;
  ramBytes: number;
  node: string;
  os: string;
  /**
   * The 1-minute load average when the run started: other work on the machine (a test run, a build) shares
   * the cores and shows up in every timing, so a run on a busy machine says so.
   */
  loadAverage: number;
}

/** Reads the CPU, core count, RAM, Node version and OS of this machine. */
export function describeMachine(): Machine {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    ramBytes: totalmem(),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverage: loadavg()[0] ?? 0,
  };
}

/** The machine as a two-column table. */
export function machineTable(machine: Machine): Table {
  return {
    title: 'Machine',
    columns: ['', 'value'],
    rows: [
      ['CPU', machine.cpuModel],
      ['cores', String(machine.cores)],
      ['RAM', formatMiB(machine.ramBytes)],
      ['Node', machine.node],
      ['OS', machine.os],
      ['load average at start (1 min)', machine.loadAverage.toFixed(2)],
    ],
  };
}

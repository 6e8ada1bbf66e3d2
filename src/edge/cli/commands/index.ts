import type { Command } from 'commander';
import { registerAgent } from './agent.js';
import { registerAudit } from './audit.js';
import { registerBackup } from './backup.js';
import { registerImport } from './import-archive.js';
import { registerRestore } from './restore.js';
import { registerCancel } from './cancel.js';
import { registerDemo } from './demo.js';
import { registerDlq } from './dlq.js';
import { registerServe } from './serve.js';
import { registerNodes } from './nodes.js';
import { registerGraph } from './graph.js';
import { registerLs } from './ls.js';
import { registerPaths } from './paths.js';
import { registerRun } from './run.js';
import { registerShow } from './show.js';
import { registerSubmit } from './submit.js';
import { registerTail } from './tail.js';
import { registerValidate } from './validate.js';

/**
 * Every subcommand registers itself here. Each lives in its own file and exports
 * `register<Name>(program)`.
 */
export function registerCommands(program: Command): void {
  registerDemo(program);
  registerServe(program);
  registerNodes(program);
  registerAgent(program);
  registerValidate(program);
  registerGraph(program);
  registerPaths(program);
  registerRun(program);
  registerBackup(program);
  registerRestore(program);
  registerImport(program);
  registerAudit(program);
  registerSubmit(program);
  registerLs(program);
  registerShow(program);
  registerCancel(program);
  registerTail(program);
  registerDlq(program);
}

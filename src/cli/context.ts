import type { Command, OptionValues } from 'commander';
import { DEFAULT_WORK_FACTOR, FAST_WORK_FACTOR } from '../base/kdf.js';
import type { NodeConnector } from '../ceremony/kernel/nodes.js';
import type { EngineId } from '../engine/types.js';
import { Workspace } from '../fs/workspace.js';
import type { PersonRole } from '../state/roles.js';
import type { ApprovalOptions } from './approvals.js';
import type { NamedPaths } from './inputs.js';
import { printResult, type Result } from './output.js';
import { TerminalOperator } from './terminal.js';

// What every command runs with, and the options each one takes, as types. Commands import
// this module (never main.ts), so the CLI has no import cycle; commander hands over untyped
// option bags, and run() is the one place that names their type (docs/ARCHITECTURE.md §7, the contract).

/** The global options, before or after the command. */
interface GlobalOptions {
  workspace?: string;
  json?: boolean;
  yes?: boolean;
  passphraseFile?: NamedPaths;
  insecureFastKdf?: boolean;
}

export interface Context {
  ws: Workspace;
  /** --workspace was given (the demo keeps such a workspace instead of a temporary one). */
  workspaceGiven: boolean;
  json: boolean;
  operator: TerminalOperator;
  /** --insecure-fast-kdf: a low scrypt cost for new passphrase files (tests, the demo). */
  fastKdf: boolean;
}

/** A command's work: typed options in, one result out (output.ts prints it). */
export type Action<O> = (opts: O, ctx: Context, operands: string[]) => Promise<Result>;

function contextOf(cmd: Command): Context {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const json = Boolean(g.json);
  return {
    ws: new Workspace(g.workspace ?? process.env.KEYRITE_WORKSPACE ?? './keyrite-workspace'),
    workspaceGiven: g.workspace !== undefined,
    json,
    fastKdf: Boolean(g.insecureFastKdf),
    operator: new TerminalOperator({ passphraseFiles: g.passphraseFile ?? new Map(), yes: Boolean(g.yes), json }),
  };
}

/** Wraps a command's work for commander, so its result is printed the one way. */
export function run<O extends OptionValues>(action: Action<O>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = contextOf(cmd);
    const operands = cmd.processedArgs.flat().filter((a): a is string => typeof a === 'string');
    await printResult(await action(cmd.opts<O>(), ctx, operands), ctx.json);
  };
}

/** The scrypt work factor for new passphrase files. */
export function workFactor(ctx: Context): number {
  return ctx.fastKdf ? FAST_WORK_FACTOR : DEFAULT_WORK_FACTOR;
}

// ── Options, one type per command. Groups of flags several commands share come first. ──

/** For a command that takes no options of its own. */
export type NoOptions = Record<string, never>;

/** `--identity NAME=PATH`: identity files not at their standard paths. */
interface WithIdentities {
  identity?: NamedPaths;
}

/** `--witness NAME`: the witness who co-signs the seal (default: the only one enrolled). */
interface WithWitness {
  witness?: string;
}

/** `--nodes NODE=URL,…`: nodes over HTTP instead of in-process. */
interface WithNodes {
  nodes?: NodeConnector;
}

export interface InitOptions {
  generator: string;
  threshold: number;
  parties: number;
  guardianThreshold: number;
  guardians: number;
  approvals: number;
}

export interface IdentityNewOptions {
  name: string;
  role: PersonRole;
  out?: string;
}

export interface IdentityShowOptions {
  name?: string;
  file?: string;
}

export type RosterShowOptions = NoOptions;

export interface RosterSealOptions extends WithWitness, WithIdentities {}

export interface CustodianSetupOptions extends WithIdentities {
  custodian: string;
  guardians: string[];
  threshold?: number;
}

export interface KeygenOptions extends WithWitness, WithNodes, WithIdentities {
  engine: EngineId;
  custodians: string[];
  threshold?: number;
  label: string;
  export?: boolean;
  deleteAfterExport?: boolean;
}

export interface ExportOptions extends WithWitness, WithNodes, WithIdentities {
  key: string;
  deleteAfterExport?: boolean;
  shard?: NamedPaths;
}

export interface SignOptions extends WithNodes, WithIdentities {
  key: string;
  signer: string[];
  messageFile?: string;
  messageHex?: string;
  shard?: NamedPaths;
}

export interface ShardCheckOptions extends WithIdentities {
  key: string;
  custodian: string;
  shard?: NamedPaths;
}

export interface GuardianCheckOptions extends WithIdentities {
  guardian: string;
  custodian: string;
  share?: NamedPaths;
}

export interface GuardianReleaseOptions extends GuardianCheckOptions {
  session: string;
  to: string;
  out?: string;
}

export interface RecoverCustodianOptions extends WithWitness, WithIdentities, ApprovalOptions {
  custodian: string;
  session?: string;
  released?: NamedPaths;
  share?: NamedPaths;
  out?: string;
}

export interface RecoverPrivateKeyOptions extends WithWitness, WithIdentities, ApprovalOptions {
  key: string;
  to: string;
  custodians?: string[];
  shard?: NamedPaths;
  out?: string;
}

export interface ApproveOptions extends WithIdentities {
  request?: string;
  approver?: string;
  out?: string;
  approval?: string[];
}

export type KeyListOptions = NoOptions;

export interface KeyShowOptions {
  key: string;
}

export interface RefreshOptions extends WithWitness, WithNodes, WithIdentities, ApprovalOptions {
  key: string;
  shard?: NamedPaths;
}

export interface ReshareOptions extends RefreshOptions {
  custodians: string[];
  threshold?: number;
  dealers?: string[];
}

export interface RepairOptions extends RefreshOptions {
  custodian: string;
  helpers: string[];
}

export interface KeyRetireOptions extends WithWitness, WithIdentities, ApprovalOptions {
  key: string;
}

export interface RotateOptions extends WithWitness, WithIdentities {
  custodian: string;
  approval?: string[];
  approvers?: string[];
  requestOut?: string;
  expires?: number; // milliseconds
  newPassphraseFile?: string;
  shard?: NamedPaths; // keyId → the custodian's shard of it
  guardians?: string[];
}

export interface AuditVerifyOptions {
  genesis?: string;
  head?: string;
  checkpoint?: string[];
  receipt?: string[];
}

export type AuditShowOptions = NoOptions;

export interface NodeServeOptions {
  node: string;
  listen: string;
  home?: string;
  runTimeout?: number;
}

export type DemoOptions = NoOptions;

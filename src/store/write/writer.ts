import type { Principal } from '../../auth/principal';
import type { AccessScope } from '../access/access-scope';

/**
 * Who writes, for the audit trail and the write hooks. Every write names one: a request's client
 * (or patient), an asynchronous job running for the client who queued it, or the server itself.
 */
export interface Writer {
  /** Undefined: the server's own scheduled work (expiry). */
  principal?: Principal;
  requestId: string;
  clientIp?: string;
  /**
   * `client`: the client's own write (hooks refuse it on workflow-owned resources); `workflow`: a
   * step of a server workflow (prescribing, dispensing) acting for the principal.
   */
  origin: 'client' | 'workflow';
  /** The access rule that allowed it. */
  rule?: string;
  /** The operation that writes (`$accept`): its writes are audited as that operation. */
  operation?: string;
  /**
   * A client's own writes: its access scope, which confines them as it confines reads (a granular
   * scope `system/Observation.cu?category=laboratory` writes laboratory Observations only).
   */
  scope?: AccessScope;
}

/** The server's own work (no principal): recorded in the trail as the server. */
export function serverWriter(requestId: string): Writer {
  return { requestId, origin: 'workflow' };
}

/**
 * The same principal and request, acting through a workflow step: the step has checked what the
 * actor may do (a pharmacy holding the claim), so the write is not confined by the actor's own
 * scope (a pharmacy may not update Tasks; its `$accept` does).
 */
export function asWorkflow(writer: Writer): Writer {
  const { scope: _scope, ...rest } = writer;
  return { ...rest, origin: 'workflow' };
}

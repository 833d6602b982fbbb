/**
 * Typed errors. A JSON-RPC error answer becomes an {@link RpcError} (or its
 * subclass for the code, e.g. {@link FeeBelowMinimumError}), carrying `code`,
 * `data` (what the node attached, e.g. `expectedNonce`) and the `method` called.
 * A failure to reach the node or to read its answer is a {@link TransportError};
 * a state proof that does not check is a {@link ProofError}. The codes are the
 * project-wide table of `docs/rpc.md` ("Error codes", `ghostplane_rpc::codes`).
 */

/** Every code of `docs/rpc.md`'s table, by name. */
export const RPC_ERROR_CODES = {
  INVALID_REQUEST: -32600,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  TOO_LARGE: -32001,
  MALFORMED: -32002,
  INVALID: -32003,
  WRONG_CHAIN: -32004,
  BAD_SIGNATURE: -32005,
  UNKNOWN_SENDER: -32006,
  SIGNER_MISMATCH: -32007,
  CONTRACTS_UNSUPPORTED: -32008,
  NONCE_TOO_LOW: -32010,
  NONCE_GAP: -32011,
  REPLACEMENT_UNDERPRICED: -32012,
  ALREADY_KNOWN: -32013,
  FEE_BELOW_MINIMUM: -32014,
  NONCE_PENDING: -32015,
  SENDER_POOL_FULL: -32020,
  POOL_FULL: -32021,
  BUSY: -32022,
  SETTLEMENT_BEHIND: -32023,
  SETTLEMENT_STOPPED: -32024,
  UNAVAILABLE: -32030,
  CALL_REFUSED: -32040,
  UNKNOWN_CONTRACT: -32050,
  FUEL_TOO_HIGH: -32051,
  INPUT_TOO_LARGE: -32052,
  WOULD_BE_DROPPED: -32053,
  CIRCUIT_MISMATCH: -32101,
  UNKNOWN_WORKER: -32102,
  TOO_MANY_WORKERS: -32103,
  NOT_LEASED: -32104,
  BAD_PROOF: -32105,
  QUEUE_FULL: -32106,
  TOKEN_MISSING: -32107,
  TOKEN_REJECTED: -32108,
  BANNED: -32109,
  SUSPENDED: -32110,
} as const;

/** The name of a code of the table. */
export type RpcErrorName = keyof typeof RPC_ERROR_CODES;

const NAME_OF_CODE = new Map<number, RpcErrorName>(
  Object.entries(RPC_ERROR_CODES).map(([name, code]) => [code, name as RpcErrorName]),
);

/** The table's name of `code`, or `undefined` for a code outside it. */
export function rpcErrorName(code: number): RpcErrorName | undefined {
  return NAME_OF_CODE.get(code);
}

/** A JSON-RPC error answer. */
export class RpcError extends Error {
  /** The table's name of the code (`undefined` for an unlisted code). */
  readonly codeName: RpcErrorName | undefined;

  constructor(
    readonly code: number,
    /** The server's message (this error's `message` adds the method and code). */
    readonly serverMessage: string,
    readonly data: unknown,
    readonly method: string,
  ) {
    super(`${method}: ${serverMessage} (${rpcErrorName(code) ?? "code"} ${code})`);
    this.name = "RpcError";
    this.codeName = rpcErrorName(code);
  }

  /** `retryAfterMs` from the data of a back-pressure error (BUSY, POOL_FULL, …), if any. */
  get retryAfterMs(): number | undefined {
    const data = this.data as { retryAfterMs?: unknown } | null | undefined;
    return typeof data?.retryAfterMs === "number" ? data.retryAfterMs : undefined;
  }
}

/** -32600 `INVALID_REQUEST` (all): the request is not a valid JSON-RPC request (an id of the wrong kind, …); the call did not run. */
export class InvalidRequestError extends RpcError {
  declare readonly codeName: "INVALID_REQUEST";
  override readonly name = "InvalidRequestError";
}

/** -32602 `INVALID_PARAMS` (all): a parameter is missing or unreadable. */
export class InvalidParamsError extends RpcError {
  declare readonly codeName: "INVALID_PARAMS";
  override readonly name = "InvalidParamsError";
}

/** -32603 `INTERNAL` (all): the server failed behind the query (storage); retry or report. */
export class InternalError extends RpcError {
  declare readonly codeName: "INTERNAL";
  override readonly name = "InternalError";
}

/** -32001 `TOO_LARGE` (L2): transaction over the size limit. Data: `len`, `max`. */
export class TooLargeError extends RpcError {
  declare readonly codeName: "TOO_LARGE";
  override readonly name = "TooLargeError";
}

/** -32002 `MALFORMED` (L2, ghostd): not hex, or not a valid encoding (trailing bytes included). */
export class MalformedError extends RpcError {
  declare readonly codeName: "MALFORMED";
  override readonly name = "MalformedError";
}

/** -32003 `INVALID` (L2): a stateless check failed (zero amount, self transfer, …). */
export class InvalidTransactionError extends RpcError {
  declare readonly codeName: "INVALID";
  override readonly name = "InvalidTransactionError";
}

/** -32004 `WRONG_CHAIN` (L2, ghostd): signed for another chain id. Data: `expectedChainId`, `chainId`. */
export class WrongChainError extends RpcError {
  declare readonly codeName: "WRONG_CHAIN";
  override readonly name = "WrongChainError";
}

/** -32005 `BAD_SIGNATURE` (L2, ghostd): the signature does not verify. */
export class BadSignatureError extends RpcError {
  declare readonly codeName: "BAD_SIGNATURE";
  override readonly name = "BadSignatureError";
}

/** -32006 `UNKNOWN_SENDER` (L2): the sending L2 account does not exist. Data: `account`. */
export class UnknownSenderError extends RpcError {
  declare readonly codeName: "UNKNOWN_SENDER";
  override readonly name = "UnknownSenderError";
}

/** -32007 `SIGNER_MISMATCH` (L2): the signer is not the account's key. Data: `account`. */
export class SignerMismatchError extends RpcError {
  declare readonly codeName: "SIGNER_MISMATCH";
  override readonly name = "SignerMismatchError";
}

/** -32008 `CONTRACTS_UNSUPPORTED` (L2): a contract transaction (`Deploy`, `Call`) on a rollup whose genesis uses Groth16 (a development backend for native transfers): contracts need the STARK backend. Data: `proofSystem`, `requiredProofSystem`. */
export class ContractsUnsupportedError extends RpcError {
  declare readonly codeName: "CONTRACTS_UNSUPPORTED";
  override readonly name = "ContractsUnsupportedError";
}

/** -32010 `NONCE_TOO_LOW` (L2, ghostd): the nonce was already used. Data: `account`, `expectedNonce`, `nonce`. */
export class NonceTooLowError extends RpcError {
  declare readonly codeName: "NONCE_TOO_LOW";
  override readonly name = "NonceTooLowError";
}

/** -32011 `NONCE_GAP` (L2, ghostd): the nonce is too far ahead of the next one. Data: `expectedNonce`, `nonce`, `maxGap`. */
export class NonceGapError extends RpcError {
  declare readonly codeName: "NONCE_GAP";
  override readonly name = "NonceGapError";
}

/** -32012 `REPLACEMENT_UNDERPRICED` (L2): same nonce pending with a fee at least as high. Data: `nonce`, `existingFee`. */
export class ReplacementUnderpricedError extends RpcError {
  declare readonly codeName: "REPLACEMENT_UNDERPRICED";
  override readonly name = "ReplacementUnderpricedError";
}

/** -32013 `ALREADY_KNOWN` (L2, ghostd): already pending or included. Data: `hash`. */
export class AlreadyKnownError extends RpcError {
  declare readonly codeName: "ALREADY_KNOWN";
  override readonly name = "AlreadyKnownError";
}

/** -32014 `FEE_BELOW_MINIMUM` (L2): fee below the transaction's floor (its proof slot and pubdata: fees.md). Data: `fee`, `minFee`, `estimate` (`{execution, pubdataBytes, dataPrice, pubdata, total}`). */
export class FeeBelowMinimumError extends RpcError {
  declare readonly codeName: "FEE_BELOW_MINIMUM";
  override readonly name = "FeeBelowMinimumError";
}

/** -32015 `NONCE_PENDING` (ghostd): another transaction with this nonce is pending (the L1 replaces none). */
export class NoncePendingError extends RpcError {
  declare readonly codeName: "NONCE_PENDING";
  override readonly name = "NoncePendingError";
}

/** -32020 `SENDER_POOL_FULL` (L2): this sender has too many pending. Data: `pending`, `retryAfterMs`. */
export class SenderPoolFullError extends RpcError {
  declare readonly codeName: "SENDER_POOL_FULL";
  override readonly name = "SenderPoolFullError";
}

/** -32021 `POOL_FULL` (L2, ghostd): the pool (mempool) is full; retry later. Data: `retryAfterMs`. */
export class PoolFullError extends RpcError {
  declare readonly codeName: "POOL_FULL";
  override readonly name = "PoolFullError";
}

/** -32022 `BUSY` (L2): a stage queue is full, or the pipeline byte budget is taken; retry after the hint. Data: `retryAfterMs`. */
export class BusyError extends RpcError {
  declare readonly codeName: "BUSY";
  override readonly name = "BusyError";
}

/** -32023 `SETTLEMENT_BEHIND` (L2): proving is behind execution (unbatched or unproven backlog over its bound); retry after the hint. Data: `unplannedTxs`, `unprovenJobs`, `retryAfterMs`. */
export class SettlementBehindError extends RpcError {
  declare readonly codeName: "SETTLEMENT_BEHIND";
  override readonly name = "SettlementBehindError";
}

/** -32024 `SETTLEMENT_STOPPED` (L2): settlement stopped for good (exit mode is on, or the L1 re-executes contracts differently): no new transaction is taken; leave through `ghostplane exit`. Data: `reason`. */
export class SettlementStoppedError extends RpcError {
  declare readonly codeName: "SETTLEMENT_STOPPED";
  override readonly name = "SettlementStoppedError";
}

/** -32030 `UNAVAILABLE` (L2): shutting down, or the WAL failed. */
export class UnavailableError extends RpcError {
  declare readonly codeName: "UNAVAILABLE";
  override readonly name = "UnavailableError";
}

/** -32040 `CALL_REFUSED` (ghostd): the L1 call would fail against the current state (overdraft, stale batch, bad proof, not an operator, …). */
export class CallRefusedError extends RpcError {
  declare readonly codeName: "CALL_REFUSED";
  override readonly name = "CallRefusedError";
}

/** -32050 `UNKNOWN_CONTRACT` (L2): no contract is deployed at the address (`l2_call`, `l2_getStorage`). */
export class UnknownContractError extends RpcError {
  declare readonly codeName: "UNKNOWN_CONTRACT";
  override readonly name = "UnknownContractError";
}

/** -32051 `FUEL_TOO_HIGH` (L2): a read call asked for more fuel than the read-call limit. */
export class FuelTooHighError extends RpcError {
  declare readonly codeName: "FUEL_TOO_HIGH";
  override readonly name = "FuelTooHighError";
}

/** -32052 `INPUT_TOO_LARGE` (L2): a read call's input is over the call-input limit. */
export class InputTooLargeError extends RpcError {
  declare readonly codeName: "INPUT_TOO_LARGE";
  override readonly name = "InputTooLargeError";
}

/** -32053 `WOULD_BE_DROPPED` (L2): a deploy or call's fee estimate: it would not be included (unknown sender, a contract as sender, too little GCC). */
export class WouldBeDroppedError extends RpcError {
  declare readonly codeName: "WOULD_BE_DROPPED";
  override readonly name = "WouldBeDroppedError";
}

/** -32101 `CIRCUIT_MISMATCH` (coordinator): the worker proves another statement or parameters. */
export class CircuitMismatchError extends RpcError {
  declare readonly codeName: "CIRCUIT_MISMATCH";
  override readonly name = "CircuitMismatchError";
}

/** -32102 `UNKNOWN_WORKER` (coordinator): the worker session is unknown or expired. */
export class UnknownWorkerError extends RpcError {
  declare readonly codeName: "UNKNOWN_WORKER";
  override readonly name = "UnknownWorkerError";
}

/** -32103 `TOO_MANY_WORKERS` (coordinator): the coordinator has its most workers. */
export class TooManyWorkersError extends RpcError {
  declare readonly codeName: "TOO_MANY_WORKERS";
  override readonly name = "TooManyWorkersError";
}

/** -32104 `NOT_LEASED` (coordinator): the job is not leased to this worker. */
export class NotLeasedError extends RpcError {
  declare readonly codeName: "NOT_LEASED";
  override readonly name = "NotLeasedError";
}

/** -32105 `BAD_PROOF` (coordinator): the submitted proof does not verify. */
export class BadProofError extends RpcError {
  declare readonly codeName: "BAD_PROOF";
  override readonly name = "BadProofError";
}

/** -32106 `QUEUE_FULL` (coordinator): the job queue is full. */
export class QueueFullError extends RpcError {
  declare readonly codeName: "QUEUE_FULL";
  override readonly name = "QueueFullError";
}

/** -32107 `TOKEN_MISSING` (coordinator): the worker gave no token. */
export class TokenMissingError extends RpcError {
  declare readonly codeName: "TOKEN_MISSING";
  override readonly name = "TokenMissingError";
}

/** -32108 `TOKEN_REJECTED` (coordinator): the worker token is not valid. */
export class TokenRejectedError extends RpcError {
  declare readonly codeName: "TOKEN_REJECTED";
  override readonly name = "TokenRejectedError";
}

/** -32109 `BANNED` (coordinator): the worker is banned for a while. */
export class BannedError extends RpcError {
  declare readonly codeName: "BANNED";
  override readonly name = "BannedError";
}

/** -32110 `SUSPENDED` (coordinator): the worker's token is suspended for a while after a ban. */
export class SuspendedError extends RpcError {
  declare readonly codeName: "SUSPENDED";
  override readonly name = "SuspendedError";
}

/** The class of each code. */
const CLASS_OF_NAME: Record<RpcErrorName, new (code: number, message: string, data: unknown, method: string) => RpcError> = {
  INVALID_REQUEST: InvalidRequestError,
  INVALID_PARAMS: InvalidParamsError,
  INTERNAL: InternalError,
  TOO_LARGE: TooLargeError,
  MALFORMED: MalformedError,
  INVALID: InvalidTransactionError,
  WRONG_CHAIN: WrongChainError,
  BAD_SIGNATURE: BadSignatureError,
  UNKNOWN_SENDER: UnknownSenderError,
  SIGNER_MISMATCH: SignerMismatchError,
  CONTRACTS_UNSUPPORTED: ContractsUnsupportedError,
  NONCE_TOO_LOW: NonceTooLowError,
  NONCE_GAP: NonceGapError,
  REPLACEMENT_UNDERPRICED: ReplacementUnderpricedError,
  ALREADY_KNOWN: AlreadyKnownError,
  FEE_BELOW_MINIMUM: FeeBelowMinimumError,
  NONCE_PENDING: NoncePendingError,
  SENDER_POOL_FULL: SenderPoolFullError,
  POOL_FULL: PoolFullError,
  BUSY: BusyError,
  SETTLEMENT_BEHIND: SettlementBehindError,
  SETTLEMENT_STOPPED: SettlementStoppedError,
  UNAVAILABLE: UnavailableError,
  CALL_REFUSED: CallRefusedError,
  UNKNOWN_CONTRACT: UnknownContractError,
  FUEL_TOO_HIGH: FuelTooHighError,
  INPUT_TOO_LARGE: InputTooLargeError,
  WOULD_BE_DROPPED: WouldBeDroppedError,
  CIRCUIT_MISMATCH: CircuitMismatchError,
  UNKNOWN_WORKER: UnknownWorkerError,
  TOO_MANY_WORKERS: TooManyWorkersError,
  NOT_LEASED: NotLeasedError,
  BAD_PROOF: BadProofError,
  QUEUE_FULL: QueueFullError,
  TOKEN_MISSING: TokenMissingError,
  TOKEN_REJECTED: TokenRejectedError,
  BANNED: BannedError,
  SUSPENDED: SuspendedError,
};

/** The typed error of a JSON-RPC error object. */
export function rpcErrorFrom(method: string, error: { code: number; message: string; data?: unknown }): RpcError {
  const name = rpcErrorName(error.code);
  const cls = name === undefined ? RpcError : CLASS_OF_NAME[name];
  return new cls(error.code, error.message, error.data ?? null, method);
}

/** Whether `e` is an {@link RpcError}, and (if `name` is given) one with that code. */
export function isRpcError(e: unknown, name?: RpcErrorName): e is RpcError {
  return e instanceof RpcError && (name === undefined || e.code === RPC_ERROR_CODES[name]);
}

/** The node could not be reached, or its answer could not be read. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly method: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(method === undefined ? message : `${method}: ${message}`, options);
    this.name = "TransportError";
  }
}

/** An `l2_getProof` answer that does not check, with the reason. */
export class ProofError extends Error {
  constructor(message: string) {
    super(`state proof: ${message}`);
    this.name = "ProofError";
  }
}

/** A wait ran out of time. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/**
 * Poseidon2 of width 16 over KoalaBear (`p = 2^31 − 2^24 + 1`), exactly
 * Plonky3 0.8.0's `default_koalabear_poseidon2_16()` as `docs/state-commitment.md`
 * ("The permutation") specifies it: S-box `x^3`, 4 external rounds, 20 internal,
 * 4 external; constants copied from that page (the tests check them against it).
 *
 * Field elements are canonical integers in `[0, p)` held in plain numbers; a
 * product (up to 2^62) is split so that no intermediate passes 2^53.
 */

/** KoalaBear's modulus. */
export const P = 0x7f000001;

/** A digest: 8 field elements. */
export type Digest = number[];

/** External (full) rounds before the internal ones: `rc_external_initial_0..3`. */
const RC_EXTERNAL_INITIAL: readonly (readonly number[])[] = [
  [0x7ee56a48, 0x11367045, 0x12e41941, 0x7ebbc12b, 0x1970b7d5, 0x662b60e8, 0x3e4990c6, 0x679f91f5, 0x350813bb, 0x00874ad4, 0x28a0081a, 0x18fa5872, 0x5f25b071, 0x5e5d5998, 0x5e6fd3e7, 0x5b2e2660],
  [0x6f1837bf, 0x3fe6182b, 0x1edd7ac5, 0x57470d00, 0x43d486d5, 0x1982c70f, 0x0ea53af9, 0x61d6165b, 0x51639c00, 0x2dec352c, 0x2950e531, 0x2d2cb947, 0x08256cef, 0x1a0109f6, 0x1f51faf3, 0x5cef1c62],
  [0x3d65e50e, 0x33d91626, 0x133d5a1e, 0x0ff49b0d, 0x38900cd1, 0x2c22cc3f, 0x28852bb2, 0x06c65a02, 0x7b2cf7bc, 0x68016e1a, 0x15e16bc0, 0x5248149a, 0x6dd212a0, 0x18d6830a, 0x5001be82, 0x64dac34e],
  [0x5902b287, 0x426583a0, 0x0c921632, 0x3fe028a5, 0x245f8e49, 0x43bb297e, 0x7873dbd9, 0x3cc987df, 0x286bb4ce, 0x640a8dcd, 0x512a8e36, 0x03a4cf55, 0x481837a2, 0x03d6da84, 0x73726ac7, 0x760e7fdf],
];
/** Internal (partial) round constants: `rc_internal`. */
const RC_INTERNAL: readonly number[] = [0x54dfeb5d, 0x7d40afd6, 0x722cb316, 0x106a4573, 0x45a7ccdb, 0x44061375, 0x154077a5, 0x45744faa, 0x4eb5e5ee, 0x3794e83f, 0x47c7093c, 0x5694903c, 0x69cb6299, 0x373df84c, 0x46a0df58, 0x46b8758a, 0x3241ebcb, 0x0b09d233, 0x1af42357, 0x1e66cec2];
/** External rounds after the internal ones: `rc_external_final_0..3`. */
const RC_EXTERNAL_FINAL: readonly (readonly number[])[] = [
  [0x43e7dc24, 0x259a5d61, 0x27e85a3b, 0x1b9133fa, 0x343e5628, 0x485cd4c2, 0x16e269f5, 0x165b60c6, 0x25f683d9, 0x124f81f9, 0x174331f9, 0x77344dc5, 0x5a821dba, 0x5fc4177f, 0x54153bf5, 0x5e3f1194],
  [0x3bdbf191, 0x088c84a3, 0x68256c9b, 0x3c90bbc6, 0x6846166a, 0x03f4238d, 0x463335fb, 0x5e3d3551, 0x6e59ae6f, 0x32d06cc0, 0x596293f3, 0x6c87edb2, 0x08fc60b5, 0x34bcca80, 0x24f007f3, 0x62731c6f],
  [0x1e1db6c6, 0x0ca409bb, 0x585c1e78, 0x56e94edc, 0x16d22734, 0x18e11467, 0x7b2c3730, 0x770075e4, 0x35d1b18c, 0x22be3db5, 0x4fb1fbb7, 0x477cb3ed, 0x7d5311c6, 0x5b62ae7d, 0x559c5fa8, 0x77f15048],
  [0x3211570b, 0x490fef6a, 0x77ec311f, 0x2247171b, 0x4e0ac711, 0x2edf69c9, 0x3b5a8850, 0x65809421, 0x5619b4aa, 0x362019a7, 0x6bf9d4ed, 0x5b413dff, 0x617e181e, 0x5e7ab57b, 0x33ad7833, 0x3466c7ca],
];
/** `M_I = 1 + diag(V)`: V in canonical form (`internal_diag`). */
const INTERNAL_DIAG: readonly number[] = [2130706431, 1, 2, 1065353217, 3, 4, 1065353216, 2130706430, 2130706429, 2122383361, 1864368129, 2130706306, 8323072, 266338304, 133169152, 127];

/** The constants this module runs, for the tests that compare them with the document. */
export const POSEIDON2_PARAMS = {
  sboxDegree: 3,
  externalInitial: RC_EXTERNAL_INITIAL,
  internal: RC_INTERNAL,
  externalFinal: RC_EXTERNAL_FINAL,
  internalDiag: INTERNAL_DIAG,
} as const;

/** `a · b mod p` for canonical `a`, `b`: `a = a_hi·2^16 + a_lo`, each partial product below 2^47. */
function mul(a: number, b: number): number {
  return ((((a >>> 16) * b) % P) * 65536 + (a & 0xffff) * b) % P;
}

function cube(x: number): number {
  return mul(mul(x, x), x);
}

/** `M_E`: `M4` on each group of four, then each element plus the sum of its column (`circ(2·M4, M4, M4, M4)`). */
function externalLinear(s: number[]): void {
  for (let j = 0; j < 16; j += 4) {
    const x0 = s[j]!, x1 = s[j + 1]!, x2 = s[j + 2]!, x3 = s[j + 3]!;
    s[j] = (2 * x0 + 3 * x1 + x2 + x3) % P;
    s[j + 1] = (x0 + 2 * x1 + 3 * x2 + x3) % P;
    s[j + 2] = (x0 + x1 + 2 * x2 + 3 * x3) % P;
    s[j + 3] = (3 * x0 + x1 + x2 + 2 * x3) % P;
  }
  for (let k = 0; k < 4; k++) {
    const sum = (s[k]! + s[4 + k]! + s[8 + k]! + s[12 + k]!) % P;
    for (let j = 0; j < 16; j += 4) s[j + k] = (s[j + k]! + sum) % P;
  }
}

function externalRound(s: number[], rc: readonly number[]): void {
  for (let i = 0; i < 16; i++) s[i] = cube((s[i]! + rc[i]!) % P);
  externalLinear(s);
}

/** The permutation of 16 canonical elements (a new array; the input is not changed). */
export function permute(input: readonly number[]): number[] {
  if (input.length !== 16) throw new RangeError(`Poseidon2-16 takes 16 elements, got ${input.length}`);
  const s = input.map((v) => {
    if (!Number.isInteger(v) || v < 0 || v >= P) throw new RangeError(`${v} is not a canonical KoalaBear element`);
    return v;
  });
  externalLinear(s);
  for (const rc of RC_EXTERNAL_INITIAL) externalRound(s, rc);
  for (const rc of RC_INTERNAL) {
    s[0] = cube((s[0]! + rc) % P);
    // M_I = 1 + diag(V): x_i ← V_i·x_i + Σ x_k.
    let sum = 0;
    for (const v of s) sum += v;
    sum %= P;
    for (let i = 0; i < 16; i++) s[i] = (sum + mul(INTERNAL_DIAG[i]!, s[i]!)) % P;
  }
  for (const rc of RC_EXTERNAL_FINAL) externalRound(s, rc);
  return s;
}

/** Node hash: the first 8 elements of `P(left ‖ right)`. */
export function compress(left: Digest, right: Digest): Digest {
  return permute([...left, ...right]).slice(0, 8);
}

/**
 * The overwrite sponge (rate 8, capacity 8, zero initial state): the input
 * zero-padded to whole 8-element blocks (at least one), each block written over
 * state elements 0..8 then permuted; the digest is elements 0..8.
 */
export function sponge(elements: readonly number[]): Digest {
  let state = new Array<number>(16).fill(0);
  const blocks = Math.max(1, Math.ceil(elements.length / 8));
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < 8; i++) state[i] = elements[8 * b + i] ?? 0;
    state = permute(state);
  }
  return state.slice(0, 8);
}

// The host ABI (module `env`), as the executor defines it in
// crates/l2/executor/src/wasm.rs. Raw pointers and lengths: use the typed API in
// index.ts instead.

@external("env", "storage_read")
export declare function storage_read(key: usize, val: usize, cap: i32): i32;
@external("env", "storage_write")
export declare function storage_write(key: usize, val: usize, len: i32): void;
@external("env", "storage_delete")
export declare function storage_delete(key: usize): void;
@external("env", "caller")
export declare function caller(): i32;
@external("env", "self_account")
export declare function self_account(): i32;
@external("env", "self_address")
export declare function self_address(ptr: usize): void;
@external("env", "balance")
export declare function balance(token: i32, out: usize): i32;
@external("env", "transfer")
export declare function transfer(to: i32, token: i32, amount: usize): i32;
@external("env", "call_value")
export declare function call_value(out: usize): i32;
@external("env", "block_number")
export declare function block_number(): i64;
@external("env", "block_time")
export declare function block_time(): i64;
@external("env", "input_len")
export declare function input_len(): i32;
@external("env", "input_read")
export declare function input_read(ptr: usize): void;
@external("env", "emit_event")
export declare function emit_event(topic: usize, data: usize, len: i32): void;
@external("env", "set_return")
export declare function set_return(ptr: usize, len: i32): void;
@external("env", "revert")
export declare function revert(ptr: usize, len: i32): void;
@external("env", "call")
export declare function call(addr: usize, input: usize, len: i32, fuel: i64): i32;
@external("env", "call_with_value")
export declare function call_with_value(addr: usize, input: usize, len: i32, fuel: i64, token: i32, amount: usize): i32;
@external("env", "return_data_len")
export declare function return_data_len(): i32;
@external("env", "return_data_read")
export declare function return_data_read(ptr: usize): void;

//! Deterministic rewriting of a contract module before it is compiled: a call-depth
//! limit that is the same on every host.
//!
//! The stored code and its hash are what the deployer sent; every node rewrites it the
//! same way (a pure function of the bytes and of the pinned `wasmparser` /
//! `wasm-encoder` versions) right before compiling it. The rewrite is part of
//! consensus: it decides how much fuel a call burns and where it traps, so changing
//! it is a hard fork.
//!
//! ```text
//! wasm bytes ──► pass 1: validate (CONTRACT_FEATURES), refuse reserved imports,
//!                        bound locals and operand stack per function
//!            ──► pass 2: re-encode with
//!                  + 1 import   env.__gp_call_depth_exceeded: () -> ()
//!                  + 1 global   mutable i32 call depth, starts at 0
//!                  + 1 export   that global, as `__gp_depth` (the runtime reads
//!                               it at a sub-call and starts the callee's there)
//!                  + types      for that import and for multi-value wrapper blocks
//!                  - custom sections (names, debug info: never executed)
//!                  defined functions shift up by 1 (calls, ref.func, exports,
//!                  elements and start are remapped)
//! ```
//!
//! Every defined function becomes
//!
//! ```text
//! depth += 1; if depth > WASM_CALL_DEPTH_MAX { call __gp_call_depth_exceeded }
//! block (result <the function's results>)
//!   <original body>         every `return` becomes `depth -= 1; return`
//! end                       a branch to the function's own label lands here
//! depth -= 1
//! ```
//!
//! A native stack overflows at a depth that depends on the CPU, the compiler and its
//! version; this counter does not. It counts across contracts: when a contract calls
//! another (the `call` host function), the callee's counter starts at the caller's,
//! so the frames of the whole nested chain are bounded together. A trap, the depth trap included, ends the call and
//! discards the instance, so the counter never needs restoring. The added operators
//! cost fuel like any other (12 per call: `CALL_DEPTH_FUEL_PER_CALL` in the runtime).
//!
//! Bulk memory and table operations need no rewrite: the engine charges them per byte
//! or element before touching memory (see `BULK_MEMORY_FUEL_PER_BYTE` in the runtime).

use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, EntityType, ExportKind, ExportSection, Function,
    GlobalSection, GlobalType, ImportSection, Instruction, Module, SectionId, TypeSection,
};
use wasmparser::{
    FuncType, FuncValidatorAllocations, OperatorsReader, Parser, Payload, TypeRef, ValidPayload,
    Validator, WasmFeatures,
};

/// The wasm proposals a contract may use: WebAssembly 2.0 without SIMD (SIMD results
/// may differ between hosts) and without GC types (not compiled into our wasmtime).
/// That is: mutable globals, sign extension, saturating float-to-int, multi-value,
/// bulk memory and reference types (funcref tables). The engine is configured with
/// exactly this set too.
pub const CONTRACT_FEATURES: WasmFeatures = WasmFeatures::WASM2
    .difference(WasmFeatures::SIMD)
    .difference(WasmFeatures::GC_TYPES);

/// Most wasm frames (of the contract's own functions) active at once. The
/// `(WASM_CALL_DEPTH_MAX + 1)`-th nested call traps: the same depth on every host,
/// whatever its CPU, compiler or native stack.
pub const WASM_CALL_DEPTH_MAX: u32 = 1024;
/// Most locals (parameters included) one function may declare. With
/// [`WASM_OPERAND_STACK_MAX`] it bounds the native frame of a function, so that
/// [`WASM_CALL_DEPTH_MAX`] frames always fit the native stack bound (see
/// `WASM_STACK_BYTES_MAX` in the runtime for the arithmetic).
pub const WASM_FUNCTION_LOCALS_MAX: u32 = 512;
/// Highest the operand stack of one function may grow (validation tracks it exactly).
pub const WASM_OPERAND_STACK_MAX: u32 = 512;

/// Every import name with this prefix belongs to the runtime; a contract importing one
/// is refused at deploy.
pub const RESERVED_IMPORT_PREFIX: &str = "__gp_";
/// Module of every import the rewrite adds (the ABI's module).
pub const IMPORT_MODULE: &str = "env";
/// `() -> ()`: traps with the call-depth failure. The one import the rewrite appends
/// (its function index follows the module's own imports).
pub const CALL_DEPTH_EXCEEDED: &str = "__gp_call_depth_exceeded";
/// The export the rewrite adds: the call-depth global (mutable i32). Contracts may
/// not export a name with the reserved prefix.
pub const DEPTH_EXPORT: &str = "__gp_depth";

/// Why a module cannot be rewritten (it is refused at deploy).
#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    /// The bytes are not a valid module under [`CONTRACT_FEATURES`].
    #[error("invalid module: {0}")]
    Invalid(#[from] wasmparser::BinaryReaderError),
    /// The module imports a name reserved for the runtime.
    #[error("import {module}.{name} uses the reserved prefix `{RESERVED_IMPORT_PREFIX}`")]
    ReservedImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// A function has too many locals.
    #[error(
        "function {function} has {locals} locals (with parameters), over the {WASM_FUNCTION_LOCALS_MAX}-local limit"
    )]
    TooManyLocals {
        /// Function index.
        function: u32,
        /// Its locals, parameters included.
        locals: u32,
    },
    /// A function's operand stack grows too high.
    #[error(
        "function {function} needs an operand stack of {height} values, over the {WASM_OPERAND_STACK_MAX}-value limit"
    )]
    OperandStackTooHigh {
        /// Function index.
        function: u32,
        /// Its highest operand stack.
        height: u32,
    },
    /// The module exports a name reserved for the runtime.
    #[error("export {0} uses the reserved prefix `{RESERVED_IMPORT_PREFIX}`")]
    ReservedExport(String),
    /// The module is a component or has a nested module.
    #[error("only core wasm modules are accepted")]
    NotACoreModule,
    /// Re-encoding failed (a module that validated always re-encodes).
    #[error("cannot re-encode the module: {0}")]
    Encode(String),
}

/// What pass 1 learns about a defined function.
struct FunctionInfo {
    /// Its type index.
    type_index: u32,
}

/// What pass 1 learns about the module.
#[derive(Default)]
struct Analysis {
    types: Vec<FuncType>,
    imported_functions: u32,
    imported_globals: u32,
    defined_globals: u32,
    functions: Vec<FunctionInfo>,
}

/// Validates `code` and returns the rewritten module described in the module docs.
pub fn instrument(code: &[u8]) -> Result<Vec<u8>, InstrumentError> {
    let analysis = analyze(code)?;
    let mut rewriter = Rewriter::new(&analysis);
    let mut module = Module::new();
    rewriter
        .parse_core_module(&mut module, Parser::new(0), code)
        .map_err(|e| InstrumentError::Encode(e.to_string()))?;
    debug_assert_eq!(rewriter.next_function, analysis.functions.len());
    Ok(module.finish())
}

/// Pass 1: validation, the reserved-name check, per-function bounds and the facts
/// pass 2 needs.
fn analyze(code: &[u8]) -> Result<Analysis, InstrumentError> {
    let mut validator = Validator::new_with_features(CONTRACT_FEATURES);
    let mut allocations = FuncValidatorAllocations::default();
    let mut analysis = Analysis::default();
    let mut function_types: Vec<u32> = Vec::new();
    for payload in Parser::new(0).parse_all(code) {
        let payload = payload?;
        match validator.payload(&payload)? {
            ValidPayload::Ok | ValidPayload::End(_) => {}
            ValidPayload::Parser(_) => return Err(InstrumentError::NotACoreModule),
            ValidPayload::Func(to_validate, body) => {
                let function = to_validate.index;
                let mut func = to_validate.into_validator(std::mem::take(&mut allocations));
                let mut reader = body.get_binary_reader();
                func.read_locals(&mut reader)?;
                let locals = func.len_locals();
                if locals > WASM_FUNCTION_LOCALS_MAX {
                    return Err(InstrumentError::TooManyLocals { function, locals });
                }
                let mut ops = OperatorsReader::new(reader);
                let mut height_max = 0;
                while !ops.eof() {
                    let (op, offset) = ops.read_with_offset()?;
                    func.op(offset, &op)?;
                    height_max = height_max.max(func.operand_stack_height());
                }
                ops.finish()?;
                if height_max > WASM_OPERAND_STACK_MAX {
                    return Err(InstrumentError::OperandStackTooHigh {
                        function,
                        height: height_max,
                    });
                }
                let defined = analysis.functions.len();
                let type_index = function_types.get(defined).copied().ok_or_else(|| {
                    InstrumentError::Encode(format!("function {function} has no type"))
                })?;
                analysis.functions.push(FunctionInfo { type_index });
                allocations = func.into_allocations();
            }
        }
        match payload {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    analysis.types.push(ty?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    if import.name.starts_with(RESERVED_IMPORT_PREFIX) {
                        return Err(InstrumentError::ReservedImport {
                            module: import.module.into(),
                            name: import.name.into(),
                        });
                    }
                    match import.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => {
                            analysis.imported_functions += 1
                        }
                        TypeRef::Global(_) => analysis.imported_globals += 1,
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for type_index in reader {
                    function_types.push(type_index?);
                }
            }
            Payload::GlobalSection(reader) => analysis.defined_globals = reader.count(),
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    if export.name.starts_with(RESERVED_IMPORT_PREFIX) {
                        return Err(InstrumentError::ReservedExport(export.name.into()));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(analysis)
}

/// Pass 2: the re-encoder. Runs only on a module pass 1 accepted.
struct Rewriter<'a> {
    analysis: &'a Analysis,
    /// Type index of `() -> ()` (the depth trap).
    unit_type: u32,
    /// Added `[] -> results` types for multi-value wrapper blocks, by results.
    block_types: Vec<(Vec<wasmparser::ValType>, u32)>,
    /// Index of the call-depth global.
    depth_global: u32,
    /// The defined function whose body comes next in the code section.
    next_function: usize,
    types_written: bool,
    imports_written: bool,
    globals_written: bool,
    exports_written: bool,
}

impl<'a> Rewriter<'a> {
    fn new(analysis: &'a Analysis) -> Self {
        let types = analysis.types.len() as u32;
        let mut block_types: Vec<(Vec<wasmparser::ValType>, u32)> = Vec::new();
        for function in &analysis.functions {
            let results = analysis
                .types
                .get(function.type_index as usize)
                .map_or(&[][..], FuncType::results);
            if results.len() > 1 && !block_types.iter().any(|(r, _)| r == results) {
                let index = types + 1 + block_types.len() as u32;
                block_types.push((results.to_vec(), index));
            }
        }
        Self {
            analysis,
            unit_type: types,
            block_types,
            depth_global: analysis.imported_globals + analysis.defined_globals,
            next_function: 0,
            types_written: false,
            imports_written: false,
            globals_written: false,
            exports_written: false,
        }
    }

    /// Function index of the added import.
    fn depth_trap_index(&self) -> u32 {
        self.analysis.imported_functions
    }

    fn add_types(&mut self, types: &mut TypeSection) -> Result<(), reencode::Error> {
        types.ty().function([], []);
        for (results, _) in &self.block_types {
            let results = results
                .iter()
                .map(|t| RoundTrip.val_type(*t))
                .collect::<Result<Vec<_>, _>>()?;
            types.ty().function([], results);
        }
        self.types_written = true;
        Ok(())
    }

    fn add_imports(&mut self, imports: &mut ImportSection) {
        imports.import(
            IMPORT_MODULE,
            CALL_DEPTH_EXCEEDED,
            EntityType::Function(self.unit_type),
        );
        self.imports_written = true;
    }

    fn add_exports(&mut self, exports: &mut ExportSection) {
        exports.export(DEPTH_EXPORT, ExportKind::Global, self.depth_global);
        self.exports_written = true;
    }

    fn add_globals(&mut self, globals: &mut GlobalSection) {
        globals.global(
            GlobalType {
                val_type: wasm_encoder::ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(0),
        );
        self.globals_written = true;
    }

    /// `depth -= 1`
    fn leave(&self, f: &mut Function) {
        f.instruction(&Instruction::GlobalGet(self.depth_global));
        f.instruction(&Instruction::I32Const(1));
        f.instruction(&Instruction::I32Sub);
        f.instruction(&Instruction::GlobalSet(self.depth_global));
    }

    /// `depth += 1; if depth > WASM_CALL_DEPTH_MAX { trap }`
    fn enter(&self, f: &mut Function) {
        f.instruction(&Instruction::GlobalGet(self.depth_global));
        f.instruction(&Instruction::I32Const(1));
        f.instruction(&Instruction::I32Add);
        f.instruction(&Instruction::GlobalSet(self.depth_global));
        f.instruction(&Instruction::GlobalGet(self.depth_global));
        f.instruction(&Instruction::I32Const(WASM_CALL_DEPTH_MAX as i32));
        f.instruction(&Instruction::I32GtU);
        f.instruction(&Instruction::If(BlockType::Empty));
        f.instruction(&Instruction::Call(self.depth_trap_index()));
        f.instruction(&Instruction::End);
    }

    fn wrapper_block_type(&self, type_index: u32) -> Result<BlockType, reencode::Error> {
        let results = self
            .analysis
            .types
            .get(type_index as usize)
            .map_or(&[][..], FuncType::results);
        Ok(match results {
            [] => BlockType::Empty,
            [one] => BlockType::Result(RoundTrip.val_type(*one)?),
            many => BlockType::FunctionType(
                self.block_types
                    .iter()
                    .find(|(r, _)| r == many)
                    .map_or(0, |(_, index)| *index),
            ),
        })
    }
}

/// The plain re-encoder, for conversions that need no remapping.
struct RoundTrip;

impl Reencode for RoundTrip {
    type Error = Infallible;
}

/// Position of a section in the order the binary format requires.
fn section_rank(id: SectionId) -> u8 {
    match id {
        SectionId::Custom => 0,
        SectionId::Type => 1,
        SectionId::Import => 2,
        SectionId::Function => 3,
        SectionId::Table => 4,
        SectionId::Memory => 5,
        SectionId::Tag => 6,
        SectionId::Global => 7,
        SectionId::Export => 8,
        SectionId::Start => 9,
        SectionId::Element => 10,
        SectionId::DataCount => 11,
        SectionId::Code => 12,
        SectionId::Data => 13,
    }
}

impl Reencode for Rewriter<'_> {
    type Error = Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error> {
        Ok(if func < self.analysis.imported_functions {
            func
        } else {
            func + 1
        })
    }

    /// Writes the type, import and global sections the module lacks, where the binary
    /// format puts them.
    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), reencode::Error> {
        let past = |id: SectionId| before.is_none_or(|next| section_rank(next) > section_rank(id));
        if !self.types_written && past(SectionId::Type) {
            let mut types = TypeSection::new();
            self.add_types(&mut types)?;
            module.section(&types);
        }
        if !self.imports_written && past(SectionId::Import) {
            let mut imports = ImportSection::new();
            self.add_imports(&mut imports);
            module.section(&imports);
        }
        if !self.globals_written && past(SectionId::Global) {
            let mut globals = GlobalSection::new();
            self.add_globals(&mut globals);
            module.section(&globals);
        }
        if !self.exports_written && past(SectionId::Export) {
            let mut exports = ExportSection::new();
            self.add_exports(&mut exports);
            module.section(&exports);
        }
        Ok(())
    }

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_type_section(self, types, section)?;
        self.add_types(types)
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_import_section(self, imports, section)?;
        self.add_imports(imports);
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_global_section(self, globals, section)?;
        self.add_globals(globals);
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_export_section(self, exports, section)?;
        self.add_exports(exports);
        Ok(())
    }

    /// Custom sections are dropped: they are never executed, and a name section would
    /// need its function indices remapped.
    fn parse_custom_section(
        &mut self,
        _module: &mut Module,
        _section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        body: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error> {
        let analysis = self.analysis;
        let Some(info) = analysis.functions.get(self.next_function) else {
            // Pass 1 saw every body; a mismatch cannot happen on a module it accepted.
            return Err(reencode::Error::InvalidCodeSectionSize);
        };
        self.next_function += 1;
        let mut locals = Vec::new();
        for pair in body.get_locals_reader()? {
            let (count, ty) = pair?;
            locals.push((count, self.val_type(ty)?));
        }
        let mut f = Function::new(locals);
        self.enter(&mut f);
        f.instruction(&Instruction::Block(
            self.wrapper_block_type(info.type_index)?,
        ));
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            let op = ops.read()?;
            if ops.eof() {
                // The function's final `end`: close the wrapper block, leave, end.
                f.instruction(&Instruction::End);
                self.leave(&mut f);
                f.instruction(&Instruction::End);
                break;
            }
            if let wasmparser::Operator::Return = op {
                self.leave(&mut f);
            }
            f.instruction(&self.instruction(op)?);
        }
        code.function(&f);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    fn instrumented(text: &str) -> Vec<u8> {
        let out = instrument(&wat(text)).unwrap();
        let mut validator = Validator::new_with_features(CONTRACT_FEATURES);
        validator.validate_all(&out).unwrap();
        out
    }

    fn imports(code: &[u8]) -> Vec<(String, String)> {
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(code) {
            if let Payload::ImportSection(reader) = payload.unwrap() {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    names.push((import.module.to_string(), import.name.to_string()));
                }
            }
        }
        names
    }

    #[test]
    fn rewrite_is_deterministic_and_valid() {
        let text = r#"(module
            (import "env" "caller" (func $caller (result i32)))
            (memory (export "memory") 1)
            (table 2 funcref)
            (elem (i32.const 0) $a $b)
            (global $g (mut i32) (i32.const 5))
            (func $a (result i32 i64)
              (if (call $caller) (then (return (i32.const 1) (i64.const 2))))
              (br 0 (i32.const 3) (i64.const 4)))
            (func $b (param i32) (result i32)
              (memory.fill (i32.const 0) (i32.const 1) (local.get 0))
              (local.get 0))
            (func (export "call") (drop (call $a)) (drop (drop (call $b (global.get $g)))))
            (start $c)
            (func $c))"#;
        let first = instrumented(text);
        assert_eq!(first, instrumented(text), "same bytes in, same bytes out");
        let names = imports(&first);
        assert_eq!(
            names,
            vec![
                ("env".into(), "caller".into()),
                (IMPORT_MODULE.into(), CALL_DEPTH_EXCEEDED.into())
            ]
        );
    }

    #[test]
    fn modules_without_types_imports_or_globals_get_them() {
        let out = instrumented(r#"(module (memory (export "memory") 1))"#);
        assert_eq!(imports(&out).len(), 1);
    }

    #[test]
    fn reserved_imports_are_refused() {
        let err = instrument(&wat(
            r#"(module (import "env" "__gp_call_depth_exceeded" (func)))"#,
        ))
        .unwrap_err();
        assert!(
            matches!(err, InstrumentError::ReservedImport { .. }),
            "{err}"
        );
    }

    #[test]
    fn frames_are_bounded() {
        let locals = format!(
            "(module (func (param i32) (local {})))",
            "i64 ".repeat(WASM_FUNCTION_LOCALS_MAX as usize)
        );
        let err = instrument(&wat(&locals)).unwrap_err();
        assert!(
            matches!(err, InstrumentError::TooManyLocals { locals, .. } if locals == WASM_FUNCTION_LOCALS_MAX + 1),
            "{err}"
        );
        let fits = format!(
            "(module (func (param i32) (local {})))",
            "i64 ".repeat(WASM_FUNCTION_LOCALS_MAX as usize - 1)
        );
        instrument(&wat(&fits)).unwrap();

        let pushes = |n: u32| {
            format!(
                "(module (func {} {}))",
                "(i32.const 1)".repeat(n as usize),
                "drop ".repeat(n as usize)
            )
        };
        instrument(&wat(&pushes(WASM_OPERAND_STACK_MAX))).unwrap();
        let err = instrument(&wat(&pushes(WASM_OPERAND_STACK_MAX + 1))).unwrap_err();
        assert!(
            matches!(err, InstrumentError::OperandStackTooHigh { .. }),
            "{err}"
        );
    }

    #[test]
    fn proposals_outside_the_contract_set_are_refused() {
        // SIMD.
        let err =
            instrument(&wat("(module (func (result v128) (v128.const i64x2 0 0)))")).unwrap_err();
        assert!(matches!(err, InstrumentError::Invalid(_)), "{err}");
    }
}

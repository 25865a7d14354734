// LLVM's C API from Debian's llvm-dev, which links /usr/include/llvm-c to the
// installed LLVM's headers. dlmc uses only calls present in LLVM 14 and later;
// Package.swift links the matching libLLVM-<major>.
#include <llvm/Config/llvm-config.h>  // LLVM_VERSION_STRING (LLVMGetVersion is LLVM 16+)
#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>  // LLVMTemporaryMDNode: self-referential loop metadata
#include <llvm-c/Analysis.h>
#include <llvm-c/Support.h>
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Transforms/PassBuilder.h>

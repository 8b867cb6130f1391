"""Base: what every stage shares and nothing of the model (keyed randomness, LLVM intrinsics,
numba's cache kept honest, Mesa imported without side effects)."""

// Fused optimizer updates (see ABI.md).

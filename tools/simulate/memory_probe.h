// MemoryProbe: the process' resident memory, and a way to hand freed heap memory back to
// the kernel first, so that the difference of two readings is what was freed in between
// (the simulator frees a store and reads what it held).
// Thread-safety: reads /proc; call where nothing else allocates meanwhile.
#pragma once

namespace floodgate::simulate {

// VmRSS in bytes, or -1 when /proc/self/status cannot be read.
long ResidentBytes();
// malloc_trim(0): free pages go back to the kernel, so RSS shows what is in use.
void ReturnFreeMemory();

}  // namespace floodgate::simulate

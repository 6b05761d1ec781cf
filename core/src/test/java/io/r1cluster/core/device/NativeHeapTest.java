package io.r1cluster.core.device;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.Test;

/**
 * Memory freed by native code stays in the process until {@link NativeHeap#trim()} returns it: the
 * resident set, read from /proc, falls by most of what was freed.
 */
class NativeHeapTest {
  @Test
  void trimReturnsFreedNativeMemoryToTheOperatingSystem() {
    assumeTrue(NativeHeap.residentBytes() > 0 && NativeHeap.trim(), "Linux with glibc only");
    // 64 KiB blocks: below glibc's smallest mmap threshold, so they come from an arena (as PyTorch's
    // small and mid-sized tensors do), and free() keeps them there
    int blocks = 6_000;
    long size = 64 << 10;
    long[] peers = new long[blocks];
    for (int i = 0; i < blocks; i++) {
      peers[i] = Native.malloc(size);
      new Pointer(peers[i]).setMemory(0, size, (byte) 1); // resident
    }
    long fence = Native.malloc(4096); // above the blocks: free() alone cannot shrink the arena from its top
    try {
      long touched = NativeHeap.residentBytes();
      for (long p : peers) {
        Native.free(p);
      }
      long freed = NativeHeap.residentBytes();
      NativeHeap.trim();
      long trimmed = NativeHeap.residentBytes();
      long mib = 1 << 20;
      assertTrue(freed - trimmed > 256 * mib, String.format("resident after touching %d MiB, after free %d MiB, after trim"
          + " %d MiB: the trim should return most of the %d MiB freed", touched / mib, freed / mib, trimmed / mib,
          blocks * size / mib));
    } finally {
      Native.free(fence);
    }
  }
}

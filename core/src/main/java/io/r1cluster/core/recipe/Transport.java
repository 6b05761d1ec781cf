package io.r1cluster.core.recipe;

/** Weight transport between JVMs: Aeron IPC (same host, shared memory) or UDP (across hosts). */
public enum Transport { IPC, UDP }

package io.r1cluster.core.data;

/** Why generation of a completion ended: an EOS token / stop string, or the length limit. */
public enum FinishReason {
  STOP,
  LENGTH
}

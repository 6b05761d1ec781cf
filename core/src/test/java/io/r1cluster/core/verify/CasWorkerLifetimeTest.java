package io.r1cluster.core.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A verifier nobody uses any more (a finished run's reward functions) must not pin a thread and a CAS
 * evaluator: its worker ends after an idle spell, and a later comparison starts a fresh one.
 */
class CasWorkerLifetimeTest {
  @Test
  @Timeout(120)
  void theCasWorkerEndsWhenIdleAndComesBackWhenNeeded() throws Exception {
    long before = MathVerifier.casIdleMillis;
    MathVerifier.casIdleMillis = 300;
    try {
      MathVerifier v = new MathVerifier(6, Duration.ofSeconds(60));
      assertTrue(v.verify("$(x+1)^2$", "$x^2+2x+1$"));
      assertTrue(v.casCalls() > 0, "the comparison went through the CAS");
      assertEquals(1, v.casThreads());
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (v.casThreads() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(0, v.casThreads(), "the idle worker ended");
      long calls = v.casCalls();
      assertTrue(v.verify("$(x-1)^2$", "$x^2-2x+1$"));
      assertTrue(!v.verify("$(x-1)^2$", "$x^2+2x+1$"));
      assertTrue(v.casCalls() > calls, "the CAS answered again, on a new worker");
    } finally {
      MathVerifier.casIdleMillis = before;
    }
  }
}

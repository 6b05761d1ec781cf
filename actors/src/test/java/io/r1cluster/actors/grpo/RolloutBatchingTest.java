package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.typesafe.config.ConfigFactory;
import io.r1cluster.actors.transport.AeronSettings;
import io.r1cluster.actors.transport.EmbeddedAeron;
import io.r1cluster.actors.transport.WeightChannels;
import io.r1cluster.actors.transport.WeightKey;
import io.r1cluster.actors.transport.WeightPublisher;
import io.r1cluster.actors.transport.WeightReceiver;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.generate.BatchEngine;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests that reach a node through different {@link RolloutWorker} entities run in the node's one
 * batch: a real {@link RolloutEngine} (weights over Aeron IPC), four entities, one group each.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RolloutBatchingTest {
  static final ActorTestKit KIT = ActorTestKit.create("rollout-batching", ConfigFactory.load());

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  @TempDir Path tmp;

  @Test
  void groupsFromSeveralEntitiesShareOneBatch() throws Exception {
    int g = 4;
    int entities = 4;
    AeronSettings as = AeronSettings.defaults().withTermLength(4 << 20);
    DemoTokenizer.write(tmp);
    Qwen2Config cfg = Qwen2Config.of(DemoTokenizer.vocabSize(), 32, 64, 2, 2, 1, 256, true);
    try (EmbeddedAeron aeron = EmbeddedAeron.launch(as);
        Qwen2Model policy = Qwen2Model.random(cfg, Device.cpu(), 5)) {
      Node node = node(aeron, as, tmp, cfg, policy, new RunSpec.Sampling(g, 64, 24, 1.0, 1.0, 0, 0));
      RolloutEngine engine = node.engine();
      try {
        engine.generate(Prompt.ofProblem("warm", "1+1", "2"), 1, 0, Duration.ofSeconds(30)); // weights in, engine started
        NodeResources res = NodeResources.get(KIT.system());
        res.useSlots(1);
        res.rollout().complete(engine);
        GrpoActorSettings settings = GrpoActorSettings.fromConfig(KIT.system().settings().config());
        List<ActorRef<RolloutWorker.Command>> workers = new ArrayList<>();
        for (int i = 0; i < entities; i++) {
          workers.add(KIT.spawn(RolloutWorker.create("rollout-" + i, settings)));
        }
        // hold the engine between two steps while every entity hands it a group
        BatchEngine batch = engine.batchEngine(0);
        CountDownLatch release = new CountDownLatch(1);
        batch.withModel(m -> {
          try {
            return release.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
        int before = batch.stats().maxActive();
        TestProbe<RolloutWorker.Reply> probe = KIT.createTestProbe();
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < entities; i++) {
          prompts.add(Prompt.ofProblem("p" + i, (i + 2) + "+" + (7 - i), Integer.toString(9)));
          workers.get(i).tell(new RolloutWorker.Generate(i, "run", prompts.get(i), 100 + i, 0, probe.ref()));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (batch.load() < entities * g) {
          assertTrue(System.nanoTime() < deadline, "entities did not submit: load " + batch.load());
          Thread.sleep(5);
        }
        release.countDown();
        Map<Long, Group> groups = new HashMap<>();
        for (int i = 0; i < entities; i++) {
          RolloutWorker.Reply r = probe.receiveMessage(Duration.ofSeconds(60));
          groups.put(r.dispatchId(), assertInstanceOf(RolloutWorker.Generated.class, r).group());
        }
        assertEquals(g, before, "before: one group at a time");
        assertEquals(entities * g, batch.stats().maxActive(), "the four entities' groups ran in one batch");
        // and sharing the batch changed nothing: each group again, alone, is the same
        for (int i = 0; i < entities; i++) {
          Group alone = engine.generate(prompts.get(i), 100 + i, 0, Duration.ofSeconds(30));
          Group shared = groups.get((long) i);
          assertEquals(g, shared.size());
          for (int c = 0; c < g; c++) {
            Completion a = alone.completions().get(c);
            Completion b = shared.completions().get(c);
            assertArrayEquals(a.tokenIds(), b.tokenIds(), "group " + i + " completion " + c);
            assertArrayEquals(a.logProbs(), b.logProbs(), 1e-4f, "group " + i + " completion " + c);
          }
        }
      } finally {
        engine.close();
      }
    }
  }

  /**
   * At {@code max_staleness} 0 a step's groups reach the node before the weights they need: they
   * wait, and when the version arrives they all join the batch at one token step with one prefill
   * (not the first group alone while the others are still being handed over), and every row is
   * generated by the new version.
   */
  @Test
  void groupsWaitingForAVersionStartTogether() throws Exception {
    int g = 4;
    int groups = 6;
    AeronSettings as = AeronSettings.defaults().withTermLength(4 << 20);
    Path dir = tokenizerDir("wait");
    Qwen2Config cfg = Qwen2Config.of(DemoTokenizer.vocabSize(), 32, 64, 2, 2, 1, 256, true);
    try (EmbeddedAeron aeron = EmbeddedAeron.launch(as);
        Qwen2Model policy = Qwen2Model.random(cfg, Device.cpu(), 7);
        Qwen2Model next = Qwen2Model.random(cfg, Device.cpu(), 8)) {
      Node node = node(aeron, as, dir, cfg, policy, new RunSpec.Sampling(g, 64, 24, 1.0, 1.0, 0, 0));
      RolloutEngine engine = node.engine();
      // one generation slot, as a node with cluster.rollout_slots 1: the waits queue on it
      java.util.concurrent.ExecutorService slot = java.util.concurrent.Executors.newSingleThreadExecutor();
      try {
        engine.generate(Prompt.ofProblem("warm", "1+1", "2"), 1, 0, Duration.ofSeconds(30)); // v0 in, engine started
        BatchEngine batch = engine.batchEngine(0);
        BatchEngine.Stats before = batch.stats();
        List<java.util.concurrent.CompletableFuture<Group>> fs = new ArrayList<>();
        for (int i = 0; i < groups; i++) {
          fs.add(engine.submit(Prompt.ofProblem("p" + i, i + "+1", Integer.toString(i + 1)), 50 + i, 1,
              Duration.ofSeconds(60), slot));
          Thread.sleep(20); // handed over one by one, as the rollout entities do
        }
        Thread.sleep(100);
        assertEquals(before, batch.stats(), "nothing runs before version 1 arrives");
        node.pub().publish(new WeightSnapshot(1, next.toTensors(DType.F32)));
        for (var f : fs) {
          Group grp = f.get(60, TimeUnit.SECONDS);
          assertEquals(1, grp.policyVersion(), "generated by the version the group waited for");
        }
        BatchEngine.Stats after = batch.stats();
        assertEquals(1, after.prefills() - before.prefills(), "the waiting groups share one prefill");
        assertEquals(groups * g, after.maxActive(), "and run in one batch");
      } finally {
        slot.shutdownNow();
        engine.close();
      }
    }
  }

  /**
   * At {@code max_staleness} 0 a run is reproducible only if a step's groups take the same rows every
   * run: a row's numbers depend, in the last bits, on the slot it runs in, and the entities hand
   * their groups over in whatever order the asks arrive. The same sixteen groups of eight, handed over
   * forwards, backwards and shuffled while they wait for a version (the same weights each time), give
   * the same tokens and bit-identical behaviour log-probs. (Without the fixed hand-over order, two
   * 100-step GRPO runs of the demo recipe differed in one group's log-probs at steps 18 and 93.)
   */
  @Test
  void aHandOverRunsTheSameRowsWhateverOrderItsGroupsArrivedIn() throws Exception {
    int g = 8;
    int groups = 16;
    AeronSettings as = AeronSettings.defaults().withTermLength(8 << 20);
    Path dir = tokenizerDir("order");
    Tokenizer tok = Tokenizer.load(dir);
    Qwen2Config cfg = io.r1cluster.core.model.Models.demoConfig(tok);
    try (EmbeddedAeron aeron = EmbeddedAeron.launch(as);
        Qwen2Model policy = Qwen2Model.random(cfg, Device.cpu(), 11)) {
      Node node = node(aeron, as, dir, cfg, policy, new RunSpec.Sampling(g, 64, 32, 1.0, 1.0, 0, 0));
      RolloutEngine engine = node.engine();
      java.util.concurrent.ExecutorService slots = java.util.concurrent.Executors.newFixedThreadPool(4);
      try {
        engine.generate(Prompt.ofProblem("warm", "1+1", "2"), 1, 0, Duration.ofSeconds(30)); // v0 in, engine started
        List<Integer> forward = new ArrayList<>();
        for (int i = 0; i < groups; i++) {
          forward.add(i);
        }
        List<Integer> backward = new ArrayList<>(forward);
        java.util.Collections.reverse(backward);
        List<Integer> shuffled = new ArrayList<>(forward);
        java.util.Collections.shuffle(shuffled, new java.util.Random(3));
        List<Map<String, Group>> rounds = new ArrayList<>();
        long v = 0;
        for (List<Integer> order : List.of(forward, backward, shuffled)) {
          v++;
          List<java.util.concurrent.CompletableFuture<Group>> fs = new ArrayList<>();
          for (int i : order) {
            Prompt p = Prompt.ofProblem("p" + i, (i * 7 % 13) + "+" + (i + 3), Integer.toString(i * 7 % 13 + i + 3));
            fs.add(engine.submit(p, 1000 + 17L * i, v, Duration.ofSeconds(60), slots));
          }
          node.pub().publish(new WeightSnapshot(v, policy.toTensors(DType.F32))); // the same weights again
          Map<String, Group> byPrompt = new HashMap<>();
          for (var f : fs) {
            Group grp = f.get(60, TimeUnit.SECONDS);
            assertEquals(v, grp.policyVersion());
            byPrompt.put(grp.prompt().id(), grp);
          }
          rounds.add(byPrompt);
        }
        for (int r = 1; r < rounds.size(); r++) {
          for (int i = 0; i < groups; i++) {
            Group want = rounds.get(0).get("p" + i);
            Group got = rounds.get(r).get("p" + i);
            for (int c = 0; c < g; c++) {
              String what = "round " + r + ", group p" + i + ", completion " + c;
              assertArrayEquals(want.completions().get(c).tokenIds(), got.completions().get(c).tokenIds(), what);
              assertArrayEquals(want.completions().get(c).logProbs(), got.completions().get(c).logProbs(), what);
            }
          }
        }
      } finally {
        slots.shutdownNow();
        engine.close();
      }
    }
  }

  /**
   * The wait for weights: a request for a version the learner has not announced yet waits however
   * long the learner trains (here 1 s under a 300 ms limit, and a published but unannounced
   * snapshot is not used); once a version is announced, its snapshot must arrive within the limit or
   * the request fails; a cancelled waiter frees its slot thread at once.
   */
  @Test
  void aRequestWaitsOutTheLearnerAndFailsOnlyWhenAnAnnouncedVersionDoesNotArrive() throws Exception {
    AeronSettings as = AeronSettings.defaults().withTermLength(4 << 20);
    Path dir = tokenizerDir("announce");
    Qwen2Config cfg = Qwen2Config.of(DemoTokenizer.vocabSize(), 32, 64, 2, 2, 1, 256, true);
    Duration limit = Duration.ofMillis(300);
    try (EmbeddedAeron aeron = EmbeddedAeron.launch(as);
        Qwen2Model policy = Qwen2Model.random(cfg, Device.cpu(), 7);
        Qwen2Model next = Qwen2Model.random(cfg, Device.cpu(), 8)) {
      Node node = node(aeron, as, dir, cfg, policy, new RunSpec.Sampling(2, 64, 8, 1.0, 1.0, 0, 0), 0);
      RolloutEngine engine = node.engine();
      java.util.concurrent.ExecutorService slot = java.util.concurrent.Executors.newSingleThreadExecutor();
      try {
        engine.generate(Prompt.ofProblem("warm", "1+1", "2"), 1, 0, Duration.ofSeconds(30)); // v0 in

        var v1 = engine.submit(Prompt.ofProblem("a", "1+2", "3"), 5, 1, limit, slot);
        Thread.sleep(1000); // the learner is still training v1
        assertFalse(v1.isDone(), "a version not yet announced is waited for beyond the limit");
        node.pub().publish(new WeightSnapshot(1, next.toTensors(DType.F32)));
        Thread.sleep(300);
        assertFalse(v1.isDone(), "a snapshot is used only once announced");
        engine.receiver().announced(1);
        assertEquals(1, v1.get(30, TimeUnit.SECONDS).policyVersion());

        var v2 = engine.submit(Prompt.ofProblem("b", "1+3", "4"), 6, 2, limit, slot);
        Thread.sleep(500);
        assertFalse(v2.isDone());
        long announcedAt = System.nanoTime();
        engine.receiver().announced(2); // announced, never published: this node is not getting it
        java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
            () -> v2.get(30, TimeUnit.SECONDS));
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - announcedAt);
        assertInstanceOf(java.util.concurrent.TimeoutException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("was announced but did not arrive within PT0.3S"), e.getCause().getMessage());
        assertTrue(waited >= 250 && waited < 5000, "failed " + waited + " ms after the announcement");

        var v3 = engine.submit(Prompt.ofProblem("c", "1+4", "5"), 7, 3, limit, slot);
        Thread.sleep(200);
        v3.cancel(false); // its entity stopped
        assertEquals("free", slot.submit(() -> "free").get(5, TimeUnit.SECONDS), "the cancelled waiter left its slot");
      } finally {
        slot.shutdownNow();
        engine.close();
      }
    }
  }

  /**
   * An entity that stops (shard handed over, node leaving) takes its sequences out of the node's
   * batch: none of its tokens is generated after the stop, and the batch empties.
   */
  @Test
  void aStoppedEntityFreesItsRows() throws Exception {
    int g = 4;
    AeronSettings as = AeronSettings.defaults().withTermLength(4 << 20);
    Path dir = tokenizerDir("stop");
    Qwen2Config cfg = Qwen2Config.of(DemoTokenizer.vocabSize(), 32, 64, 2, 2, 1, 512, true);
    // a kit of its own: NodeResources is per actor system, and the other test's engine is another one
    ActorTestKit kit = ActorTestKit.create("rollout-stop", ConfigFactory.load());
    try (EmbeddedAeron aeron = EmbeddedAeron.launch(as);
        Qwen2Model policy = Qwen2Model.random(cfg, Device.cpu(), 6)) {
      Node node = node(aeron, as, dir, cfg, policy, new RunSpec.Sampling(g, 64, 400, 1.0, 1.0, 0, 0));
      RolloutEngine engine = node.engine();
      try {
        engine.submit(Prompt.ofProblem("warm", "1+1", "2"), 1, 0, Duration.ofSeconds(30), Runnable::run)
            .get(60, TimeUnit.SECONDS); // weights in, engine started
        NodeResources res = NodeResources.get(kit.system());
        res.useSlots(1);
        res.rollout().complete(engine);
        GrpoActorSettings settings = GrpoActorSettings.fromConfig(kit.system().settings().config());
        ActorRef<RolloutWorker.Command> worker = kit.spawn(RolloutWorker.create("rollout-stop", settings));
        BatchEngine batch = engine.batchEngine(0);
        CountDownLatch release = new CountDownLatch(1);
        batch.withModel(m -> {
          try {
            return release.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
        TestProbe<RolloutWorker.Reply> probe = kit.createTestProbe();
        worker.tell(new RolloutWorker.Generate(7, "run", Prompt.ofProblem("long", "2+2", "4"), 3, 0, probe.ref()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (batch.load() < g) {
          assertTrue(System.nanoTime() < deadline, "the entity did not submit: load " + batch.load());
          Thread.sleep(5);
        }
        long tokensBefore = batch.stats().tokens();
        kit.stop(worker);
        assertInstanceOf(RolloutWorker.GenerateFailed.class, probe.receiveMessage(Duration.ofSeconds(10)));
        release.countDown();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (batch.load() > 0) {
          assertTrue(System.nanoTime() < deadline, "the stopped entity's rows stayed in the batch: load " + batch.load());
          Thread.sleep(5);
        }
        assertEquals(tokensBefore, batch.stats().tokens(), "no token generated for a stopped entity");
      } finally {
        engine.close();
      }
    } finally {
      kit.shutdownTestKit();
    }
  }

  /**
   * Versions after the first are written into the model the node's engine already runs (no second
   * model on the device): the same model object, with the published weights bit for bit. A snapshot
   * that does not fit the model (another config's) fails the requests waiting for it and writes
   * nothing; the next good version is taken as usual.
   */
  @Test
  void versionsAreWrittenIntoTheRunningModelAndABadOneWritesNothing() throws Exception {
    AeronSettings as = AeronSettings.defaults().withTermLength(4 << 20);
    Path dir = tokenizerDir("in-place");
    Qwen2Config cfg = Qwen2Config.of(DemoTokenizer.vocabSize(), 32, 64, 2, 2, 1, 256, true);
    Qwen2Config wider = Qwen2Config.of(DemoTokenizer.vocabSize(), 48, 64, 2, 2, 1, 256, true);
    try (EmbeddedAeron aeron = EmbeddedAeron.launch(as);
        Qwen2Model policy = Qwen2Model.random(cfg, Device.cpu(), 7);
        Qwen2Model next = Qwen2Model.random(cfg, Device.cpu(), 8);
        Qwen2Model alien = Qwen2Model.random(wider, Device.cpu(), 9);
        Qwen2Model third = Qwen2Model.random(cfg, Device.cpu(), 10)) {
      Node node = node(aeron, as, dir, cfg, policy, new RunSpec.Sampling(2, 64, 8, 1.0, 1.0, 0, 0));
      RolloutEngine engine = node.engine();
      try {
        Prompt p = Prompt.ofProblem("p", "1+1", "2");
        engine.generate(p, 1, 0, Duration.ofSeconds(30));
        BatchEngine batch = engine.batchEngine(0);
        Qwen2Model running = batch.withModel(m -> m).get(30, TimeUnit.SECONDS);
        node.pub().publish(new WeightSnapshot(1, next.toTensors(DType.F32)));
        assertEquals(1, engine.generate(p, 2, 1, Duration.ofSeconds(30)).policyVersion());
        assertTrue(batch.withModel(m -> m == running).get(30, TimeUnit.SECONDS), "version 1 written into the running model");
        assertSameWeights(next, engine);
        node.pub().publish(new WeightSnapshot(2, alien.toTensors(DType.F32)));
        RuntimeException bad = assertThrows(RuntimeException.class, () -> engine.generate(p, 3, 2, Duration.ofSeconds(30)));
        assertTrue(bad.getMessage().contains("shape"), bad.getMessage());
        assertEquals(1, engine.version());
        assertSameWeights(next, engine);
        node.pub().publish(new WeightSnapshot(3, third.toTensors(DType.F32)));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (engine.receiver().latestVersion() < 3 && System.nanoTime() < until) {
          Thread.sleep(5); // until then the bad version 2 is the newest there is, and fails every request
        }
        assertEquals(3, engine.generate(p, 4, 3, Duration.ofSeconds(30)).policyVersion());
        assertTrue(batch.withModel(m -> m == running).get(30, TimeUnit.SECONDS));
        assertSameWeights(third, engine);
        // each write releases its lease: the receiver reuses its buffers instead of allocating a set per version
        long sets = engine.receiver().bufferSetsAllocated();
        for (int v = 4; v <= 8; v++) {
          node.pub().publish(new WeightSnapshot(v, (v % 2 == 0 ? next : third).toTensors(DType.F32)));
          assertEquals(v, engine.generate(p, 10 + v, v, Duration.ofSeconds(30)).policyVersion());
        }
        assertSameWeights(next, engine);
        assertTrue(engine.receiver().bufferSetsAllocated() - sets <= 1, "buffer sets allocated for versions 4-8: "
            + (engine.receiver().bufferSetsAllocated() - sets));
      } finally {
        engine.close();
      }
    }
  }

  static void assertSameWeights(Qwen2Model want, RolloutEngine engine) {
    io.r1cluster.actors.transport.Snapshots.assertBitIdentical(new WeightSnapshot(0, want.toTensors(DType.F32)),
        new WeightSnapshot(0, engine.weights()));
  }

  /** A folder under the test's temp folder holding the demo tokenizer. */
  private Path tokenizerDir(String name) throws java.io.IOException {
    Path dir = tmp.resolve(name);
    java.nio.file.Files.createDirectories(dir);
    DemoTokenizer.write(dir);
    return dir;
  }

  /** A node's rollout engine on one CPU device, fed over Aeron IPC by its own publisher, which has published {@code policy} as version 0. */
  record Node(RolloutEngine engine, WeightPublisher pub) {}

  static Node node(EmbeddedAeron aeron, AeronSettings as, Path tokenizerDir, Qwen2Config cfg, Qwen2Model policy,
      RunSpec.Sampling sampling) throws InterruptedException {
    return node(aeron, as, tokenizerDir, cfg, policy, sampling, Long.MAX_VALUE); // every published version is announced
  }

  /** As above, with versions up to {@code announced} announced (the test announces the rest on the receiver). */
  static Node node(EmbeddedAeron aeron, AeronSettings as, Path tokenizerDir, Qwen2Config cfg, Qwen2Model policy,
      RunSpec.Sampling sampling, long announced) throws InterruptedException {
    String channel = WeightChannels.ipc(as);
    WeightKey key = WeightKey.random();
    WeightPublisher pub = WeightPublisher.create(aeron.aeron(), channel, as, key);
    WeightReceiver rec = WeightReceiver.create(aeron.aeron(), channel, as, pub.publisherId(), key);
    rec.announced(announced);
    rec.start();
    assertTrue(pub.awaitConnected(Duration.ofSeconds(10)));
    pub.publish(new WeightSnapshot(0, policy.toTensors(DType.F32)));
    Tokenizer tok = Tokenizer.load(tokenizerDir);
    return new Node(new RolloutEngine(cfg, tok, tok.chatTemplate(), sampling, rec, pub, List.of(Device.cpu()), 64, false),
        pub);
  }
}

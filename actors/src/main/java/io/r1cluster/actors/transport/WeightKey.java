package io.r1cluster.actors.transport;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.agrona.DirectBuffer;

/**
 * The per-run secret that authenticates the weight stream: every MANIFEST, CHUNK and COMMIT carries
 * an HMAC-SHA256 tag ({@link WeightWire#TAG_LENGTH} bytes) computed with this key, and receivers drop
 * whatever does not verify. The owner of the weights draws a fresh key per run
 * ({@link #random()}) and hands it to the nodes inside the run spec, over Artery (TLS when
 * {@code pekko.remote.artery.transport = tls-tcp}); it never goes on the Aeron stream and is never
 * printed ({@link #toString()} is redacted).
 *
 * <p>{@link Tagger} is the per-thread MAC state: the publisher and each receiver agent own one.
 */
public final class WeightKey {
  /** Key length in bytes (the HMAC-SHA256 block-size-friendly 256 bits). */
  public static final int LENGTH = 32;
  private static final String ALGORITHM = "HmacSHA256";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] key;

  private WeightKey(byte[] key) {
    this.key = key;
  }

  /** A fresh random key. */
  public static WeightKey random() {
    byte[] k = new byte[LENGTH];
    RANDOM.nextBytes(k);
    return new WeightKey(k);
  }

  /** The key with these bytes (copied); exactly {@link #LENGTH} bytes. */
  public static WeightKey of(byte[] bytes) {
    if (bytes == null || bytes.length != LENGTH) {
      throw new IllegalArgumentException("weight stream key must be " + LENGTH + " bytes, got "
          + (bytes == null ? "none" : bytes.length));
    }
    return new WeightKey(bytes.clone());
  }

  /** The key from its hex form (for a receiver process that reads it from stdin). */
  public static WeightKey ofHex(String hex) {
    return of(HexFormat.of().parseHex(hex.trim()));
  }

  /** A copy of the key bytes (to put into a run spec). */
  public byte[] bytes() {
    return key.clone();
  }

  /** The hex form, for handing the key to a child process over a pipe (never a command line). */
  public String toHex() {
    return HexFormat.of().formatHex(key);
  }

  /** A MAC state bound to this key, for one thread. */
  public Tagger tagger() {
    return new Tagger(key);
  }

  @Override
  public String toString() {
    return "WeightKey[redacted]";
  }

  /** HMAC-SHA256 with one key; not thread-safe. Tags are written into and compared from a scratch array. */
  public static final class Tagger {
    private final Mac mac;
    private final byte[] scratch = new byte[256];
    private final byte[] tag = new byte[WeightWire.TAG_LENGTH];
    private final byte[] expected = new byte[WeightWire.TAG_LENGTH];

    Tagger(byte[] key) {
      try {
        mac = Mac.getInstance(ALGORITHM);
        mac.init(new SecretKeySpec(key, ALGORITHM));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(ALGORITHM + " unavailable", e);
      }
    }

    /** Starts a tag over {@code length} bytes of {@code b} at {@code offset}. */
    public Tagger start(DirectBuffer b, int offset, int length) {
      mac.reset();
      return update(b, offset, length);
    }

    /** Adds {@code length} bytes of {@code b} at {@code offset}. */
    public Tagger update(DirectBuffer b, int offset, int length) {
      while (length > 0) {
        int n = Math.min(length, scratch.length);
        b.getBytes(offset, scratch, 0, n);
        mac.update(scratch, 0, n);
        offset += n;
        length -= n;
      }
      return this;
    }

    /** Adds bytes {@code [from, from + length)} of {@code view} (its position and limit are moved). */
    public Tagger update(ByteBuffer view, int from, int length) {
      view.clear();
      view.position(from).limit(from + length);
      mac.update(view);
      return this;
    }

    /** Finishes the tag and writes it into {@code b} at {@code offset}. */
    public void finishInto(org.agrona.MutableDirectBuffer b, int offset) {
      finish();
      b.putBytes(offset, tag);
    }

    /** Finishes the tag and copies it into {@code out} at {@code offset}. */
    public void finishInto(byte[] out, int offset) {
      finish();
      System.arraycopy(tag, 0, out, offset, tag.length);
    }

    /** Finishes the tag and compares it, in constant time, with the one in {@code b} at {@code offset}. */
    public boolean finishAndVerify(DirectBuffer b, int offset) {
      finish();
      b.getBytes(offset, expected);
      return MessageDigest.isEqual(tag, expected);
    }

    private void finish() {
      try {
        mac.doFinal(tag, 0);
      } catch (javax.crypto.ShortBufferException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}

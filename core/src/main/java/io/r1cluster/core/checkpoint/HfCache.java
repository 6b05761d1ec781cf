package io.r1cluster.core.checkpoint;

import io.r1cluster.core.InputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds models and datasets in a local Hugging Face hub cache, without network access.
 *
 * <pre>
 * $HF_HUB_CACHE | $HF_HOME/hub | $XDG_CACHE_HOME/huggingface/hub | ~/.cache/huggingface/hub
 *   models--ORG--NAME/            (datasets--ORG--NAME/ for datasets)
 *     refs/main                   text file holding a commit hash
 *     snapshots/&lt;commit&gt;/      the files of that revision
 * </pre>
 */
public final class HfCache {
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
  private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?");

  /** Kind of Hub repository. */
  public enum RepoType {
    MODEL("models", ""),
    DATASET("datasets", "--repo-type dataset ");

    private final String folderPrefix;
    private final String cliFlag;

    RepoType(String folderPrefix, String cliFlag) {
      this.folderPrefix = folderPrefix;
      this.cliFlag = cliFlag;
    }
  }

  private HfCache() {}

  /** The hub cache directory from the process environment. */
  public static Path hubCacheDir() {
    return hubCacheDir(System.getenv());
  }

  /** The hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
  public static Path hubCacheDir(Map<String, String> env) {
    String hub = env.get("HF_HUB_CACHE");
    if (hub != null && !hub.isBlank()) {
      return Path.of(hub);
    }
    String home = env.get("HF_HOME");
    if (home != null && !home.isBlank()) {
      return Path.of(home, "hub");
    }
    String xdg = env.get("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank()) {
      return Path.of(xdg, "huggingface", "hub");
    }
    return Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub");
  }

  /** {@link #resolve(RepoType, String, String, Path)} with the cache from the environment. */
  public static Path resolve(RepoType type, String idOrPath, String revision) {
    return resolve(type, idOrPath, revision, hubCacheDir());
  }

  /**
   * An existing local directory is returned as is; {@code ORG/NAME} is looked up in the hub cache at
   * {@code <cache>/<type>s--ORG--NAME/snapshots/<commit>}, with the commit read from
   * {@code refs/<revision or main>} or given directly as a 40-hex revision.
   *
   * @throws InputException naming every place it looked and how to provide the files
   */
  public static Path resolve(RepoType type, String idOrPath, String revision, Path cacheDir) {
    Path local = Path.of(idOrPath);
    if (Files.isDirectory(local)) {
      return local;
    }
    String rev = revision == null || revision.isBlank() ? "main" : revision;
    if (!REPO_ID.matcher(idOrPath).matches()) {
      throw new InputException(null, 0, null, idOrPath + " is neither an existing directory nor a Hub id ORG/NAME");
    }
    Path repoDir = cacheDir.resolve(type.folderPrefix + "--" + idOrPath.replace("/", "--"));
    Path ref = repoDir.resolve("refs").resolve(rev);
    String commit = null;
    if (Files.isRegularFile(ref)) {
      try {
        commit = Files.readString(ref, StandardCharsets.UTF_8).trim();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    } else if (COMMIT.matcher(rev).matches()) {
      commit = rev;
    }
    if (commit != null) {
      Path snap = repoDir.resolve("snapshots").resolve(commit);
      if (Files.isDirectory(snap)) {
        return snap;
      }
    }
    throw new InputException(null, 0, null, notFound(type, idOrPath, rev, local, repoDir, ref, commit));
  }

  private static String notFound(RepoType type, String id, String rev, Path local, Path repoDir, Path ref,
      String commit) {
    StringBuilder sb = new StringBuilder();
    sb.append(type.name().toLowerCase()).append(' ').append(id).append(" (revision ").append(rev)
        .append(") not found. Looked for:\n");
    sb.append("  - a local directory ").append(local.toAbsolutePath()).append(" (does not exist)\n");
    sb.append("  - the Hugging Face cache entry ").append(repoDir.toAbsolutePath());
    if (!Files.isDirectory(repoDir)) {
      sb.append(" (does not exist)\n");
    } else if (commit == null) {
      sb.append(" (no ").append(ref).append(" and the revision is not a commit hash)\n");
    } else {
      sb.append(" (no snapshots/").append(commit).append(")\n");
    }
    sb.append("  cache chosen from $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.\n");
    sb.append("To provide it: on a machine with network run `huggingface-cli download ").append(type.cliFlag)
        .append(id).append(rev.equals("main") ? "" : " --revision " + rev)
        .append("` and copy its cache folder ").append(repoDir.getFileName())
        .append(" into the cache above (or set HF_HOME), or pass a local directory with the files instead.");
    return sb.toString();
  }
}

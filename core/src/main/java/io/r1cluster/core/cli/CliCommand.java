package io.r1cluster.core.cli;

import java.util.concurrent.Callable;

/**
 * A top-level {@code r1} subcommand. Implementations carry picocli's {@code @Command(name = …)}
 * annotation, have a public no-arg constructor and are listed in
 * {@code META-INF/services/io.r1cluster.core.cli.CliCommand} of their module; the launcher in
 * {@code actors/} discovers them with {@link java.util.ServiceLoader}.
 *
 * <p>Return 0 on success. Throw {@link io.r1cluster.core.InputException} for bad input (the
 * launcher prints it and exits 2).
 */
public interface CliCommand extends Callable<Integer> {}

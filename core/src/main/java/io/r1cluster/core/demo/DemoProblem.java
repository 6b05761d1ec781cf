package io.r1cluster.core.demo;

/**
 * One verifiable demo problem.
 *
 * @param id stable id ({@code split-index})
 * @param task kind of problem
 * @param a first operand (for LINEAR: the coefficient of x)
 * @param b second operand (for LINEAR: the constant added to ax, may be negative)
 * @param c LINEAR only: the right-hand side; 0 otherwise
 * @param problem the question text
 * @param answer the gold answer (an integer, as text)
 */
public record DemoProblem(String id, DemoTask task, int a, int b, int c, String problem, String answer) {}

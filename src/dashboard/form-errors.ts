import type { z } from 'zod';
import { AppError } from '../lib/errors.ts';

/**
 * A form's refusal as the lines a person reads under it: the API's own field errors (zod issues of the same
 * schema, or the service's `validation_failed` errors) with the field named as the form labels it.
 */
export type FormProblem = { field: string; message: string };

export function zodProblems(error: z.ZodError, labels: Record<string, string>): FormProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return { field: labels[path] ?? labels[String(issue.path[0] ?? '')] ?? path, message: issue.message };
  });
}

/** The problems of a service's AppError, or undefined when `error` is not one (let it propagate). */
export function appErrorProblems(error: unknown, labels: Record<string, string>): FormProblem[] | undefined {
  if (!(error instanceof AppError)) return undefined;
  if (!error.errors?.length) return [{ field: '', message: error.message }];
  return error.errors.map((fieldError) => {
    const path = fieldError.pointer.replace(/^\//, '').replaceAll('/', '.');
    return { field: labels[path] ?? path, message: fieldError.message };
  });
}

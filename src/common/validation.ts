// One ValidationPipe for the whole API: unknown parameters are refused, values are converted, and every
// problem names its parameter.
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import { InvalidParametersError, type ParameterProblem } from './errors.js';
import { didYouMean } from './suggestions.js';

function flatten(errors: readonly ValidationError[], parent = ''): ParameterProblem[] {
  return errors.flatMap((error) => {
    const parameter = parent === '' ? error.property : `${parent}.${error.property}`;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
      parameter,
      message: constraint === 'whitelistValidation' ? unknownParameter(error) : message,
    }));
    return [...own, ...flatten(error.children ?? [], parameter)];
  });
}

/** A property the DTO does not declare, said as for every other operation, with the near one it may mean. */
function unknownParameter(error: ValidationError): string {
  const target = error.target as object | undefined;
  const known =
    target === undefined
      ? []
      : getMetadataStorage()
          .getTargetValidationMetadatas(target.constructor, '', false, false)
          .map((metadata) => metadata.propertyName);
  const near = didYouMean(error.property, known);
  return `unknown parameter ${error.property}${near === undefined ? '' : `; did you mean ${near}?`}`;
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    // The target names the DTO, whose declared properties suggest what an unknown one meant.
    validationError: { target: true, value: false },
    exceptionFactory: (errors) => new InvalidParametersError(flatten(errors)),
  });
}

/** Query-string booleans: exactly `true` or `false`; anything else stays as written and fails @IsBoolean. */
export const ToBoolean = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));

/** Query-string integers: digits only; anything else stays as written and fails @IsInt. */
export const ToInteger = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value,
  );

/** A parameter given once or repeated, or as a comma-separated list, becomes a list. */
export const ToList = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => {
    const items: unknown[] = Array.isArray(value) ? (value as unknown[]) : [value];
    return items.flatMap((item): unknown[] =>
      typeof item === 'string'
        ? item
            .split(',')
            .map((part) => part.trim())
            .filter(Boolean)
        : [item],
    );
  });

"""Compiled svmlight / libsvm parsing: complete lines of a byte block into a CSR chunk.

The Python driver (``fastsgd.svmlight``) reads a file in blocks, cuts each block after its last
newline and hands the complete lines here. ``parse_svmlight_lines`` fills a chunk's arrays,
sized from an estimate; when one is full it stops at a line's start and the driver grows it, so
memory is allocated a few times per block, never per line or per value.

Numbers are parsed as an int64 mantissa and a decimal exponent. When the mantissa is at most
2**53 and the exponent at most 22 in size, one multiplication or division by an exact power of
ten gives the correctly rounded double (Clinger's fast path), the same value as C's ``strtod``
and Python's ``float``. Every other number (more digits, large exponents, ``inf``, ``nan``,
underscores, anything malformed) is left to the driver as a "slow token": its position is
recorded and Python's ``float`` parses it, so the result matches scikit-learn bit for bit and
malformed numbers are refused with Python's own judgement.

The parser stops at a line boundary and reports a status code when it cannot go on: an error
(the line's number comes back), a full slow-token buffer, a full value or row array, or an
index that the int32 index array cannot hold (the driver switches to int64 and calls again
from that line).
"""

import numpy as np
from numba import njit

# Status codes of parse_svmlight_lines; the driver turns the errors into messages.
PARSED_ALL = 0
SLOW_TOKENS_FULL = 1
NEEDS_INT64_INDICES = 2
ERROR_NO_LABEL = 3
ERROR_MULTILABEL = 4
ERROR_MALFORMED_PAIR = 5
ERROR_MALFORMED_INDEX = 6
ERROR_NEGATIVE_INDEX = 7
ERROR_ZERO_INDEX = 8
ERROR_UNSORTED_INDICES = 9
ERROR_INDEX_OVERFLOW = 10
VALUES_FULL = 11
ROWS_FULL = 12

# Exactly representable powers of ten: 10**22 is the largest whose double is exact.
_EXACT_POWERS_OF_TEN = np.array([10.0**k for k in range(23)])
_MAX_FAST_MANTISSA = 2**53
# 18 decimal digits always fit an int64 mantissa; longer ones go to the slow path.
_MAX_MANTISSA_DIGITS = 18
# Beyond this an exponent cannot matter to the fast path; capping it avoids int64 overflow.
_MAX_EXPONENT_DIGITS_VALUE = 100_000
_MAX_INDEX_BEFORE_DIGIT = (2**63 - 1 - 9) // 10

_NEWLINE = 10
_HASH = 35
_COLON = 58
_COMMA = 44
_PLUS = 43
_MINUS = 45
_DOT = 46
_ZERO = 48
_EXPONENT_MARK_LOWER = 101  # e
_EXPONENT_MARK_UPPER = 69  # E
# The fast pair path takes at most this many exponent digits; longer ones go the general way.
_MAX_FAST_EXPONENT_DIGITS = 4

# Bytes that end a token (bytes.split() whitespace, the newline, '#'): one table load in the
# hot loop instead of a chain of comparisons.
_TOKEN_END = np.zeros(256, np.bool_)
_TOKEN_END[[9, 10, 11, 12, 13, 32, 35]] = True


@njit(cache=True, nogil=True, inline="always")
def _is_blank(byte):
    # bytes.split() whitespace other than the newline: space, \t, \v, \f, \r
    return byte == 32 or (9 <= byte <= 13 and byte != _NEWLINE)


@njit(cache=True, nogil=True, inline="always")
def _ends_token(byte):
    # scikit-learn cuts a line at its first '#', even inside a token
    return byte == 32 or (9 <= byte <= 13) or byte == _HASH


@njit(cache=True, nogil=True, inline="always")
def _exact_decimal(mantissa, decimal_exponent, negative):
    """Clinger's fast path: mantissa * 10**decimal_exponent, correctly rounded, when the
    mantissa is below 2**53 (the caller checks) and 10**|exponent| is an exact double; the
    flag is False when it is not, and the caller parses the token the slow way."""
    if mantissa == 0:
        value = 0.0
    elif decimal_exponent == 0:
        value = float(mantissa)
    elif 0 < decimal_exponent <= 22:
        value = float(mantissa) * _EXACT_POWERS_OF_TEN[decimal_exponent]
    elif -22 <= decimal_exponent < 0:
        value = float(mantissa) / _EXACT_POWERS_OF_TEN[-decimal_exponent]
    else:
        return 0.0, False
    return (-value if negative else value), True


@njit(cache=True, nogil=True)
def parse_decimal_fast(buffer, start, stop):
    """Parse ``buffer[start:stop]`` as a decimal number when Clinger's fast path is exact.

    Parameters
    ----------
    buffer : numpy.ndarray of uint8
        The text.
    start, stop : int
        The token's bounds.

    Returns
    -------
    value : float
        The correctly rounded double (0.0 when ``parsed`` is False).
    parsed : bool
        False when the token is not a plain decimal number whose mantissa is at most 2**53
        and whose decimal exponent is at most 22 in size: the caller parses it otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.kernels.svmlight import parse_decimal_fast
    >>> text = np.frombuffer(b"-1.25e2 1e-320 inf", dtype=np.uint8)
    >>> parse_decimal_fast(text, 0, 7)
    (-125.0, True)
    >>> parse_decimal_fast(text, 8, 14)[1], parse_decimal_fast(text, 15, 18)[1]
    (False, False)
    """
    position = start
    negative = False
    if position < stop and (buffer[position] == _MINUS or buffer[position] == _PLUS):
        negative = buffer[position] == _MINUS
        position += 1
    mantissa = 0
    significant_digits = 0
    decimal_exponent = 0
    saw_digit = False
    while position < stop and 0 <= buffer[position] - _ZERO <= 9:
        digit = buffer[position] - _ZERO
        saw_digit = True
        if mantissa != 0 or digit != 0:
            if significant_digits == _MAX_MANTISSA_DIGITS:
                return 0.0, False
            mantissa = mantissa * 10 + digit
            significant_digits += 1
        position += 1
    if position < stop and buffer[position] == _DOT:
        position += 1
        while position < stop and 0 <= buffer[position] - _ZERO <= 9:
            digit = buffer[position] - _ZERO
            saw_digit = True
            if mantissa != 0 or digit != 0:
                if significant_digits == _MAX_MANTISSA_DIGITS:
                    return 0.0, False
                mantissa = mantissa * 10 + digit
                significant_digits += 1
            decimal_exponent -= 1
            position += 1
    if not saw_digit:
        return 0.0, False
    if position < stop and (buffer[position] == 101 or buffer[position] == 69):  # e, E
        position += 1
        exponent_negative = False
        if position < stop and (buffer[position] == _MINUS or buffer[position] == _PLUS):
            exponent_negative = buffer[position] == _MINUS
            position += 1
        exponent = 0
        saw_exponent_digit = False
        while position < stop and 0 <= buffer[position] - _ZERO <= 9:
            saw_exponent_digit = True
            if exponent < _MAX_EXPONENT_DIGITS_VALUE:
                exponent = exponent * 10 + (buffer[position] - _ZERO)
            position += 1
        if not saw_exponent_digit:
            return 0.0, False
        decimal_exponent += -exponent if exponent_negative else exponent
    if position != stop or mantissa > _MAX_FAST_MANTISSA:
        return 0.0, False
    return _exact_decimal(mantissa, decimal_exponent, negative)


@njit(cache=True, nogil=True)
def parse_svmlight_lines(
    buffer,
    start,
    stop,
    line_number,
    one_based,
    max_stored_index,
    values,
    indices,
    indptr,
    labels,
    n_rows,
    nnz,
    slow_slots,
    slow_starts,
    slow_stops,
    slow_lines,
):
    """Parse the svmlight lines of ``buffer[start:stop]`` into a CSR chunk, in place.

    Follows scikit-learn's ``load_svmlight_file``: blank and comment-only lines are skipped,
    ``#`` starts a comment anywhere, a first feature token that starts with ``qid`` and has a
    colon is skipped, and indices must be strictly increasing, non-negative, and not 0 when
    ``one_based``.

    Parameters
    ----------
    buffer : numpy.ndarray of uint8
        The block.
    start, stop : int
        The text to parse: ``start`` is a line's start, ``stop`` is just past a newline or the
        end of the file.
    line_number : int
        The 1-based number of the line at ``start``.
    one_based : bool
        Refuse index 0 and store ``index - 1``; otherwise store the indices as written.
    max_stored_index : int
        The largest index ``indices`` can hold (int32's maximum, or int64's).
    values : numpy.ndarray of float64 or float32
        The chunk's values; when full, the parse stops with ``VALUES_FULL``.
    indices : numpy.ndarray of int32 or int64
        The chunk's column indices, as long as ``values``.
    indptr : numpy.ndarray of int32
        The chunk's row pointers, ``indptr[0] == 0``; one slot more than ``labels``.
    labels : numpy.ndarray of float64
        The chunk's labels; when full, the parse stops with ``ROWS_FULL``.
    n_rows, nnz : int
        The rows and values the chunk already holds (from an earlier call on the block).
    slow_slots, slow_starts, slow_stops, slow_lines : numpy.ndarray of int64
        The numbers left to the caller: the slot (a value's position ``k >= 0``, or a label's
        row ``r`` as ``-1 - r``), the token's bounds and its line number; their length is the
        capacity.

    Returns
    -------
    position : int
        Where parsing stopped: ``stop``, or the start of the line it could not parse.
    n_rows, nnz, n_slow : int
        The rows, values and slow tokens filled, counting complete lines only.
    line_number : int
        The number of the line at ``position``.
    status : int
        ``PARSED_ALL``, ``SLOW_TOKENS_FULL``, ``NEEDS_INT64_INDICES``, ``VALUES_FULL``,
        ``ROWS_FULL`` or an ``ERROR_`` code that applies to line ``line_number``.
    min_index, max_index : int
        The smallest and largest index read as written (``2**63 - 1`` and -1 when none).

    Examples
    --------
    >>> import numpy as np
    >>> from fastsgd.kernels.svmlight import parse_svmlight_lines
    >>> text = np.frombuffer(b"1 qid:4 3:0.5 7:2 # note\\n\\n-1 2:1e-400\\n", dtype=np.uint8)
    >>> values, indices = np.empty(4), np.empty(4, np.int32)
    >>> indptr, labels = np.zeros(4, np.int32), np.empty(3)
    >>> slow = [np.empty(8, np.int64) for _ in range(4)]
    >>> result = parse_svmlight_lines(text, 0, len(text), 1, True, 2**31 - 1,
    ...                               values, indices, indptr, labels, 0, 0, *slow)
    >>> position, n_rows, nnz, n_slow, line, status, low, high = result
    >>> n_rows, nnz, n_slow, line, status, (low, high)
    (2, 3, 1, 4, 0, (2, 7))
    >>> values[:2], indices[:nnz], indptr[:n_rows + 1], labels[:n_rows]
    (array([0.5, 2. ]), array([2, 6, 1], dtype=int32), array([0, 2, 3], dtype=int32), \
array([ 1., -1.]))
    >>> bytes(text[slow[1][0]:slow[2][0]]), int(slow[0][0]), int(slow[3][0])  # left to float()
    (b'1e-400', 2, 3)
    """
    capacity = slow_slots.shape[0]
    # the arrays are sized from an estimate: a full one stops the parse at a line's start, and
    # the caller grows it and resumes (a count pass over the block would cost more)
    values_capacity = min(values.shape[0], indices.shape[0])
    rows_capacity = min(labels.shape[0], indptr.shape[0] - 1)
    n_slow = 0
    min_index = np.int64(2**63 - 1)
    max_index = np.int64(-1)
    position = start
    status = PARSED_ALL
    line_start, line_nnz, line_slow = start, nnz, n_slow
    while position < stop:
        line_start = position
        line_nnz = nnz
        line_slow = n_slow
        while position < stop and _is_blank(buffer[position]):
            position += 1
        if position == stop:
            break
        byte = buffer[position]
        if byte == _HASH:
            while position < stop and buffer[position] != _NEWLINE:
                position += 1
        if position == stop:
            break
        if buffer[position] == _NEWLINE:
            position += 1
            line_number += 1
            continue

        if n_rows == rows_capacity:
            status = ROWS_FULL
            break

        # the label
        token_start = position
        has_colon = False
        has_comma = False
        while position < stop and not _ends_token(buffer[position]):
            has_colon |= buffer[position] == _COLON
            has_comma |= buffer[position] == _COMMA
            position += 1
        if has_colon:
            status = ERROR_NO_LABEL
        elif has_comma:
            status = ERROR_MULTILABEL
        if status != PARSED_ALL:
            break
        label, parsed = parse_decimal_fast(buffer, token_start, position)
        if parsed:
            labels[n_rows] = label
        elif n_slow == capacity:
            status = SLOW_TOKENS_FULL
        else:
            labels[n_rows] = np.nan
            slow_slots[n_slow] = -1 - n_rows
            slow_starts[n_slow] = token_start
            slow_stops[n_slow] = position
            slow_lines[n_slow] = line_number
            n_slow += 1

        # the features
        previous_index = np.int64(-1)
        first_feature = True
        while status == PARSED_ALL:
            while position < stop and _is_blank(buffer[position]):
                position += 1
            if position == stop or buffer[position] == _NEWLINE or buffer[position] == _HASH:
                break
            token_start = position
            # The fast path, for the common pair "digits:[sign]digits[.digits][e[sign]digits]":
            # one pass that reads the index and the value while it finds the token's end.
            # Anything else (a sign before the index, qid, too many digits, a value off
            # Clinger's fast path, malformed text) goes the general way below, from the start.
            fast = False
            value = 0.0
            index = np.int64(0)
            p = position
            while p < stop:
                digit = np.int64(buffer[p]) - _ZERO
                if digit < 0 or digit > 9:
                    break
                index = index * 10 + digit
                p += 1
            # 18 digits cannot overflow int64 (longer ones: the general path's overflow check)
            if 0 < p - position <= _MAX_MANTISSA_DIGITS and p < stop and buffer[p] == _COLON:
                p += 1
                value_negative = False
                if p < stop and (buffer[p] == _MINUS or buffer[p] == _PLUS):
                    value_negative = buffer[p] == _MINUS
                    p += 1
                mantissa = np.int64(0)
                digits_start = p
                while p < stop:
                    digit = np.int64(buffer[p]) - _ZERO
                    if digit < 0 or digit > 9:
                        break
                    mantissa = mantissa * 10 + digit
                    p += 1
                n_digits = p - digits_start
                decimal_exponent = 0
                if p < stop and buffer[p] == _DOT:
                    p += 1
                    fraction_start = p
                    while p < stop:
                        digit = np.int64(buffer[p]) - _ZERO
                        if digit < 0 or digit > 9:
                            break
                        mantissa = mantissa * 10 + digit
                        p += 1
                    n_digits += p - fraction_start
                    decimal_exponent = fraction_start - p
                exponent_ok = True
                if p < stop and (
                    buffer[p] == _EXPONENT_MARK_LOWER or buffer[p] == _EXPONENT_MARK_UPPER
                ):
                    p += 1
                    exponent_negative = False
                    if p < stop and (buffer[p] == _MINUS or buffer[p] == _PLUS):
                        exponent_negative = buffer[p] == _MINUS
                        p += 1
                    exponent = 0
                    exponent_start = p
                    while p < stop:
                        digit = np.int64(buffer[p]) - _ZERO
                        if digit < 0 or digit > 9:
                            break
                        exponent = exponent * 10 + digit
                        p += 1
                    exponent_ok = 0 < p - exponent_start <= _MAX_FAST_EXPONENT_DIGITS
                    decimal_exponent += -exponent if exponent_negative else exponent
                # all digits, leading zeros too, fit 18: the mantissa did not overflow
                if (
                    exponent_ok
                    and 0 < n_digits <= _MAX_MANTISSA_DIGITS
                    and (p == stop or _TOKEN_END[buffer[p]])
                    and mantissa <= _MAX_FAST_MANTISSA
                ):
                    value, fast = _exact_decimal(mantissa, decimal_exponent, value_negative)
            if fast:
                position = p
                value_parsed = True
            else:
                colon = -1
                while position < stop and not _ends_token(buffer[position]):
                    if colon < 0 and buffer[position] == _COLON:
                        colon = position
                    position += 1
                if (
                    first_feature
                    and colon >= 0
                    and colon - token_start >= 3
                    and buffer[token_start] == 113  # q
                    and buffer[token_start + 1] == 105  # i
                    and buffer[token_start + 2] == 100  # d
                ):
                    # a query id: scikit-learn skips it without reading its value
                    first_feature = False
                    continue
                if colon < 0:
                    status = ERROR_MALFORMED_PAIR
                    break
                digit_position = token_start
                index_negative = False
                if buffer[digit_position] == _MINUS or buffer[digit_position] == _PLUS:
                    index_negative = buffer[digit_position] == _MINUS
                    digit_position += 1
                if digit_position == colon:
                    status = ERROR_MALFORMED_INDEX
                    break
                index = np.int64(0)
                while digit_position < colon:
                    digit = np.int64(buffer[digit_position]) - _ZERO
                    if not 0 <= digit <= 9:
                        status = ERROR_MALFORMED_INDEX
                        break
                    if index > _MAX_INDEX_BEFORE_DIGIT:
                        status = ERROR_INDEX_OVERFLOW
                        break
                    index = index * 10 + digit
                    digit_position += 1
                if status != PARSED_ALL:
                    break
                if index_negative and index != 0:
                    status = ERROR_NEGATIVE_INDEX
                    break
                value, value_parsed = parse_decimal_fast(buffer, colon + 1, position)
            first_feature = False
            if one_based and index == 0:
                status = ERROR_ZERO_INDEX
                break
            if index <= previous_index:
                status = ERROR_UNSORTED_INDICES
                break
            previous_index = index
            stored_index = index - 1 if one_based else index
            if stored_index > max_stored_index:
                status = NEEDS_INT64_INDICES
                break
            if nnz == values_capacity:
                status = VALUES_FULL
                break
            min_index = min(min_index, index)
            max_index = max(max_index, index)
            indices[nnz] = stored_index
            if value_parsed:
                values[nnz] = value
            elif n_slow == capacity:
                status = SLOW_TOKENS_FULL
                break
            else:
                values[nnz] = 0.0
                slow_slots[n_slow] = nnz
                slow_starts[n_slow] = colon + 1
                slow_stops[n_slow] = position
                slow_lines[n_slow] = line_number
                n_slow += 1
            nnz += 1
        if status != PARSED_ALL:
            break

        # the rest of the line: a comment, then the newline
        while position < stop and buffer[position] != _NEWLINE:
            position += 1
        if position < stop:
            position += 1
        line_number += 1
        n_rows += 1
        indptr[n_rows] = nnz
    if status != PARSED_ALL:
        # stop at the start of the line: the caller resumes there or reports it
        position, nnz, n_slow = line_start, line_nnz, line_slow
    return position, n_rows, nnz, n_slow, line_number, status, min_index, max_index

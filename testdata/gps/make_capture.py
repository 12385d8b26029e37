#!/usr/bin/env python3
"""Writes ublox6.nmea: a synthetic capture in the format of a u-blox 6
receiver (NEO-6M) at 1 Hz: a cold start, then a fix, then a robot driving
north-east at about 1.2 m/s. See README.md."""
import math

def sentence(body):
    sum = 0
    for c in body.encode():
        sum ^= c
    return "$%s*%02X\r\n" % (body, sum)

def lat(deg):
    h = "N" if deg >= 0 else "S"
    deg = abs(deg)
    d = int(deg)
    return "%02d%08.5f" % (d, (deg - d) * 60), h

def lon(deg):
    h = "E" if deg >= 0 else "W"
    deg = abs(deg)
    d = int(deg)
    return "%03d%08.5f" % (d, (deg - d) * 60), h

out = []
# Cold start: no time, no fix (u-blox 6's exact empty sentences).
for _ in range(3):
    out += [sentence(s) for s in [
        "GPRMC,,V,,,,,,,,,,N", "GPVTG,,,,,,,,,N", "GPGGA,,,,,,0,00,99.99,,,,,,",
        "GPGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99", "GPGSV,1,1,00", "GPGLL,,,,,,V,N"]]
t0 = 10 * 3600 + 30 * 60 + 15  # 10:30:15 UTC
date = "170526"  # 17 May 2026
# Time known, no fix yet.
for i in range(2):
    t = t0 + i
    hms = "%02d%02d%02d.00" % (t // 3600, t // 60 % 60, t % 60)
    out += [sentence(s) for s in [
        "GPRMC,%s,V,,,,,,,%s,,,N" % (hms, date), "GPVTG,,,,,,,,,N",
        "GPGGA,%s,,,,,0,03,7.12,,,,,," % hms, "GPGSA,A,1,05,13,15,,,,,,,,,,99.99,99.99,99.99",
        "GPGSV,2,1,05,05,41,290,31,13,67,138,28,15,22,052,26,20,09,317,,0",
        "GPGSV,2,2,05,29,16,191,", "GPGLL,,,,,%s,V,N" % hms]]
# A fix, moving north-east.
la, lo = 46.948041, 7.447421
speed = 1.2  # m/s
course = 45.0
for i in range(15):
    t = t0 + 2 + i
    hms = "%02d%02d%02d.00" % (t // 3600, t // 60 % 60, t % 60)
    d = speed * i
    pla = la + d * math.cos(math.radians(course)) / 111132.0
    plo = lo + d * math.sin(math.radians(course)) / (111320.0 * math.cos(math.radians(la)))
    slat, ns = lat(pla)
    slon, ew = lon(plo)
    knots = speed / (1852 / 3600) if i > 0 else 0.0
    alt = 541.3 + 0.1 * (i % 3)
    sats = 7 if i < 3 else 8
    hdop = 1.43 if i < 3 else 0.98
    out += [sentence(s) for s in [
        "GPRMC,%s,A,%s,%s,%s,%s,%.3f,%s,%s,,,A" % (hms, slat, ns, slon, ew, knots, "%.2f" % course if i > 0 else "", date),
        "GPVTG,%s,T,,M,%.3f,N,%.3f,K,A" % ("%.2f" % course if i > 0 else "", knots, knots * 1.852),
        "GPGGA,%s,%s,%s,%s,%s,1,%02d,%.2f,%.1f,M,48.0,M,," % (hms, slat, ns, slon, ew, sats, hdop, alt),
        "GPGSA,A,3,05,13,15,20,29,02,07,%s,,,,,2.10,%.2f,1.80" % ("30" if sats == 8 else "", hdop),
        "GPGSV,3,1,09,02,12,035,33,05,41,290,40,07,55,087,42,13,67,138,44",
        "GPGSV,3,2,09,15,22,052,38,20,09,317,29,29,16,191,35,30,38,241,41",
        "GPGSV,3,3,09,09,02,001,",
        "GPGLL,%s,%s,%s,%s,%s,A,A" % (slat, ns, slon, ew, hms)]]
with open("ublox6.nmea", "w", newline="") as f:
    f.write("".join(out))
